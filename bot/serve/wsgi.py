"""HTTP mode: one WSGI app serving POST /slack/events (commands, interactivity, options) and
GET /healthz, run by waitress (a production WSGI server) rather than Bolt's dev server."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.context.ack import Ack
from slack_bolt.request import BoltRequest
from sqlalchemy import text

from bot.core import Core
from bot.serve.payload_check import MalformedPayload, check_body
from bot.serve.slack_status import SlackStatus

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack's payloads are far smaller
REPLAY_WINDOW = 5 * 60  # seconds; Slack's documented limit for X-Slack-Request-Timestamp

log = logging.getLogger("peerbot.http")

# Listeners run on these threads; the HTTP answer goes out as soon as one calls ack() (see
# AckSignal). Besides the quick check-store-ack, a listener may still make a Slack call after its
# ack (views.open, respond): that holds a thread, not the answer.
LISTENER_THREADS = 32
# A listener that has not acked by then gets a 500 (Slack gave up after 3 s anyway).
ACK_WAIT = 10.0

# waitress' defaults suit a general web server (1 GiB bodies, 100 connections kept for 120 s).
# A Slack endpoint gets small, quick requests, so:
WAITRESS_LIMITS: dict[str, Any] = {
    # Refused with 413 from Content-Length, before a byte of the body is read (waitress refuses
    # a length >= this); a chunked body is cut off once it grows past it.
    "max_request_body_size": MAX_BODY + 1,
    "max_request_header_size": 32 * 1024,
    # Idle or half-sent connections are closed after channel_timeout s (checked every
    # cleanup_interval s); Slack sends a whole request at once. A flood of idle connections
    # therefore holds the server for ~12 s at most, and ~100 of them do not reach the limit.
    "connection_limit": 500,
    "channel_timeout": 10,
    "cleanup_interval": 2,
    # select() cannot watch file descriptors above 1023; poll() can.
    "asyncore_use_poll": True,
}


class AckSignal(Ack):
    """Bolt's ack() that also says when it was called.

    Run with process_before_response=False, Bolt runs the listener on its pool and looks for the
    ack every 10 ms (time.sleep(0.01) in its ThreadListenerRunner): ~5-10 ms added to every
    answer, more under load. With process_before_response=True (bot/serve/app.py in HTTP mode) it runs
    the listener on the calling thread and answers when the listener *returns*, so a listener that
    acks and then opens a modal would hold the answer. Here the listener runs on our pool and the
    request thread answers the moment ack() is called (an Event, no polling), or when dispatch
    ends without one (middleware refusals, errors)."""

    def __init__(self) -> None:
        super().__init__()
        self.given = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.given.set()

    def __deepcopy__(self, memo: dict) -> Ack:
        # Bolt copies the request for lazy listeners; their ack() answers nothing (an Event
        # cannot be copied anyway)
        return Ack()


def make_wsgi_app(app: App, core: Core, slack_status: SlackStatus | None = None) -> Callable[..., Iterable[bytes]]:
    """`slack_status`: when given, /healthz answers 503 "not ready" until Slack accepted the token."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    listeners = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="peerbot-listener")
    secret = core.settings.slack_signing_secret
    key = secret.get_secret_value().encode() if secret else None

    def signed(body: bytes, timestamp: str, signature: str | None) -> bool:
        """Slack's v0 signature over the raw bytes (slack_sdk's verifier wants text, and a
        body that is not UTF-8 must get 400 once signed, not a decoding error)."""
        if key is None or signature is None or not (timestamp.isascii() and timestamp.isdigit()):
            return False
        if abs(time.time() - int(timestamp)) > REPLAY_WINDOW:
            return False
        digest = hmac.new(key, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        # bytes: compare_digest refuses str with non-ASCII characters (WSGI headers are latin-1)
        return hmac.compare_digest(b"v0=" + digest.encode(), signature.encode("latin-1", "replace"))

    def reply(start_response: Callable[..., Any], status: str, body: bytes,
              content_type: str = "text/plain") -> list[bytes]:
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def refused(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | dict[str, Any]:
        """Check the declared length, Slack's signature and the payload's shape before Bolt
        parses anything: a forged request gets 401, a signed but malformed one 400, never a 500.
        Returns that answer, or the parsed payload of a request that passed."""
        if environ.get("HTTP_TRANSFER_ENCODING"):  # waitress de-chunks; another server may not
            return reply(start_response, "411 Length Required", b"")
        declared = environ.get("CONTENT_LENGTH") or "0"
        if not (declared.isascii() and declared.isdigit()):
            return reply(start_response, "400 Bad Request", b"invalid Content-Length")
        length = int(declared)
        if length > MAX_BODY:
            return reply(start_response, "413 Payload Too Large", b"")
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # Bolt reads it again
        if not signed(body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""), environ.get("HTTP_X_SLACK_SIGNATURE")):
            return reply(start_response, "401 Unauthorized", b"invalid request")
        try:
            return check_body(body, environ.get("CONTENT_TYPE"))
        except MalformedPayload as exc:
            log.warning("malformed Slack request refused (400): %s", exc)
            return reply(start_response, "400 Bad Request", b"malformed request")

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any], payload: dict[str, Any]) -> list[bytes]:
        """Hand Bolt the payload parsed and verified above. Bolt's own HTTP parsing takes any
        form body containing the word "payload" for an interactivity payload, so
        `/peering list payload` would be lost (404); given the parsed body as in Socket Mode, it
        is dispatched as sent."""
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        request = BoltRequest(body=payload, headers=headers, mode="socket_mode")
        ack = request.context["ack"] = AckSignal()
        running = listeners.submit(app.dispatch, request)
        running.add_done_callback(lambda _: ack.given.set())
        if not ack.given.wait(ACK_WAIT):
            log.error("no answer within %.0f s to a %s request", ACK_WAIT, payload.get("type") or "command")
            return reply(start_response, "500 Internal Server Error", b"")
        resp = ack.response if ack.response is not None else running.result()
        body = resp.body.encode() if isinstance(resp.body, str) else bytes(resp.body or b"")
        out = [(k, v) for k, values in resp.headers.items() for v in values if k.lower() != "content-length"]
        start_response(f"{resp.status} {HTTPStatus(resp.status).phrase}", out + [("Content-Length", str(len(body)))])
        return [body]

    def healthz(start_response: Callable[..., Any]) -> list[bytes]:
        try:
            with core.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - health is a yes/no answer
            answer: dict[str, str] = {"status": "database unavailable"}
        else:
            if slack_status is None or slack_status.ready:
                answer = {"status": "ok"}
            else:
                answer = {"status": "not ready", "reason": slack_status.reason}
        status = "200 OK" if answer["status"] == "ok" else "503 Service Unavailable"
        answer["pid"] = os.getpid()  # which process answered (`serve --processes N`)
        return reply(start_response, status, json.dumps(answer).encode(), "application/json")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return healthz(start_response)
        if environ.get("PATH_INFO") == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            answer = refused(environ, start_response)
            if isinstance(answer, dict):
                return dispatch(environ, start_response, answer)
            return answer
        return slack(environ, start_response)  # anything else: Bolt's own answer (404, 405)

    return wsgi


def create_server(app: App, core: Core, host: str, port: int, threads: int = 8,
                  slack_status: SlackStatus | None = None, **limits: Any):  # noqa: ANN201
    """A waitress server, not yet running (tests run it in a thread; `serve` runs it here).
    `limits` override WAITRESS_LIMITS (tests use small ones)."""
    import waitress

    return waitress.create_server(make_wsgi_app(app, core, slack_status), host=host, port=port, threads=threads,
                                  ident="peerbot", clear_untrusted_proxy_headers=True,
                                  **{**WAITRESS_LIMITS, **limits})
