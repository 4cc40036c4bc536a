"""Post notices to Slack channels without breaking Slack's ~1 message/second/channel limit.

A single worker thread drains a queue; messages to the same channel are spaced by
`min_interval`, and Slack's 429 answers are retried after Retry-After (slack_sdk handler).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

log = logging.getLogger(__name__)
_STOP = object()


class Notifier:
    def __init__(self, client: WebClient, min_interval: float = 1.0):
        self.client = client
        if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
            client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
        self.min_interval = min_interval
        self._queue: queue.Queue[Any] = queue.Queue()
        self._last: dict[str, float] = {}
        self._spacing = threading.Lock()  # send() callers take turns
        self._thread = threading.Thread(target=self._work, name="peerbot-notifier", daemon=True)
        self._thread.start()

    def post(self, channel: str, message: dict[str, Any]) -> None:
        self._queue.put((channel, message))

    def send(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        """Post now, in the caller's thread, keeping the channel's spacing; Slack's answer, or
        SlackApiError (after the 429 retries). The notice outbox (bot/notices/sender.py) needs
        the ts and to know it was sent."""
        with self._spacing:
            wait = self._last.get(channel, 0.0) + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                return dict(self.client.chat_postMessage(channel=channel, **message).data)  # type: ignore[arg-type]
            finally:
                self._last[channel] = time.monotonic()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far was sent (for shutdown and tests)."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            channel, message = item
            wait = self._last.get(channel, 0.0) + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                self.client.chat_postMessage(channel=channel, **message)
            except SlackApiError as exc:
                log.warning("could not post to %s: %s", channel, exc.response.get("error"))
            except Exception:  # noqa: BLE001 - a notice lost is logged, the worker lives on
                log.exception("could not post to %s", channel)
            self._last[channel] = time.monotonic()
