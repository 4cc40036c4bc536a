"""HTTP mode: one WSGI app serving POST /slack/events (commands, interactivity, options) and
GET /healthz, run by waitress (a production WSGI server) rather than Bolt's dev server."""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from bot.core import Core

EVENTS_PATH = "/slack/events"


MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything bigger unread


def make_wsgi_app(app: App, core: Core) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = core.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None

    def reply(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    def verified(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
        """Check Slack's signature before Bolt parses anything: a forged request with a body
        Bolt cannot parse must get 401 like any other forgery, not a 500."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return reply(start_response, "413 Payload Too Large", b"")
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # Bolt reads it again
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        ok = (verifier is not None and timestamp.isascii() and timestamp.isdigit() and signature is not None
              and verifier.is_valid(body=body, timestamp=timestamp, signature=signature))
        return None if ok else reply(start_response, "401 Unauthorized", b"invalid request")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            try:
                with core.db.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                status, body = "200 OK", b'{"status":"ok"}'
            except Exception:  # noqa: BLE001 - health is a yes/no answer
                status, body = "503 Service Unavailable", b'{"status":"database unavailable"}'
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            refused = verified(environ, start_response)
            if refused is not None:
                return refused
        return slack(environ, start_response)

    return wsgi


def create_server(app: App, core: Core, host: str, port: int, threads: int = 8):  # noqa: ANN201
    """A waitress server, not yet running (tests run it in a thread; `serve` runs it here)."""
    import waitress

    return waitress.create_server(make_wsgi_app(app, core), host=host, port=port, threads=threads,
                                  ident="peerbot", clear_untrusted_proxy_headers=True)
