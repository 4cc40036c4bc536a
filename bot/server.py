"""HTTP mode: one WSGI app serving POST /slack/events (commands, interactivity, options) and
GET /healthz, run by waitress (a production WSGI server) rather than Bolt's dev server."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.core import Core

EVENTS_PATH = "/slack/events"


def make_wsgi_app(app: App, core: Core) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

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
        return slack(environ, start_response)

    return wsgi


def create_server(app: App, core: Core, host: str, port: int, threads: int = 8):  # noqa: ANN201
    """A waitress server, not yet running (tests run it in a thread; `serve` runs it here)."""
    import waitress

    return waitress.create_server(make_wsgi_app(app, core), host=host, port=port, threads=threads,
                                  ident="peerbot", clear_untrusted_proxy_headers=True)
