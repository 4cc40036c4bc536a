"""Is Slack there, and does it accept the bot token? `auth.test` at start, and in HTTP mode
retried in the background so that /healthz can say "not ready" instead of the process dying.

- Slack answers and accepts the token: ready.
- Slack answers and rejects the token (invalid_auth, token_revoked, …): `TokenRejected`. That
  will not fix itself: `serve` stops with one line and exit code 2.
- Slack does not answer (DNS, TCP, TLS, timeout, HTTP 5xx, ratelimited): not ready, with the
  reason; retried with exponential backoff.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger("peerbot.slack")

# Slack's own error codes that say "try again later" rather than "this token is no good".
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})
FIRST_RETRY = 1.0  # seconds
MAX_RETRY = 60.0


def check_client(token: str | None, base_url: str) -> WebClient:
    """A client for these checks: one attempt a call, and silent, since the caller reports each
    outcome in one line (the SDK would log every failed attempt at ERROR as well)."""
    quiet = logging.getLogger("peerbot.slack.check")
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    return WebClient(token=token, base_url=base_url, timeout=10, logger=quiet, retry_handlers=[])


class TokenRejected(Exception):
    """Slack answered and refused SLACK_BOT_TOKEN; the message names Slack's error code."""


class SlackStatus:
    """What `/healthz` reports about Slack: ready, or not ready and why."""

    def __init__(self, client: WebClient, *, variable: str = "SLACK_BOT_TOKEN", method: str = "auth.test"):
        """`client` holds the token of `variable`; `method` is the Web API call that checks it
        (the app-level token of Socket Mode: apps.connections.open)."""
        self._client = client
        self._variable = variable
        self._method = method
        self._lock = threading.Lock()
        self._ready = False
        self._reason = "Slack not checked yet"
        self._stop = threading.Event()

    @property
    def ready(self) -> bool:
        with self._lock:
            return self._ready

    @property
    def reason(self) -> str:
        with self._lock:
            return self._reason

    def check(self) -> bool:
        """One call: True when ready; False when Slack is unreachable (the reason is kept);
        raises TokenRejected when Slack refuses the token."""
        try:
            self._client.api_call(self._method)
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "") if isinstance(exc.response.data, dict) else ""
            status = exc.response.status_code
            if code in TRANSIENT_ERRORS or status == 429 or status >= 500 or not code:
                return self._not_ready(f"Slack unreachable: it answered {code or f'HTTP {status}'}")
            raise TokenRejected(f"Slack rejected {self._variable} ({code[:60]})") from None
        except (OSError, SlackClientError) as exc:  # URLError, timeouts, refused connections
            return self._not_ready(f"Slack unreachable: {_why(exc)}")
        with self._lock:
            self._ready, self._reason = True, "ok"
        return True

    def _not_ready(self, reason: str) -> bool:
        with self._lock:
            self._ready, self._reason = False, reason
        return False

    def retry_in_background(self, on_rejected: Callable[[str], None]) -> threading.Thread:
        """Call auth.test until it succeeds (backoff FIRST_RETRY … MAX_RETRY s); if Slack comes
        back and rejects the token, call `on_rejected(message)` and stop."""

        def run() -> None:
            delay = FIRST_RETRY
            while not self._stop.wait(delay):
                try:
                    if self.check():
                        log.info("Slack reachable and the bot token accepted: ready")
                        return
                except TokenRejected as exc:
                    with self._lock:
                        self._reason = str(exc)
                    on_rejected(str(exc))
                    return
                log.warning("%s; retrying in %.0f s", self.reason, min(delay * 2, MAX_RETRY))
                delay = min(delay * 2, MAX_RETRY)

        thread = threading.Thread(target=run, name="peerbot-slack-check", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def _why(exc: BaseException) -> str:
    """A short, secret-free cause: the innermost reason's type and first line."""
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket error
    inner = reason if isinstance(reason, BaseException) else exc
    text = str(inner).splitlines()[0][:120] if str(inner) else ""
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__
