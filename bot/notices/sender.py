"""Send the notice outbox (bot/notices/outbox.py) to Slack: the first notice of a subject opens
its thread in the channel, later ones reply in it (broadcast when the notice says so).

One sender at a time across processes (the lock below), so a subject's notices go out in order
and its thread is opened once; each notice is also claimed with a conditional UPDATE, so it is
sent by one process only. A notice is marked sent in the database after Slack accepted it; a
process that dies between the two leaves a claim that another sender retries after
`Outbox.stale_after` (the one case a notice can appear twice).
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from bot.core import Core
from bot.notices.poster import Notifier
from bot.notices.outbox import Outbox, OutgoingNotice

log = logging.getLogger(__name__)

# The key of the cross-process lock held while sending (bot/core/locks.py's router locks are
# keyed by router id, always positive: a negative key cannot collide with a router).
SENDER_LOCK = -11
Renderer = Callable[[OutgoingNotice], dict[str, Any]]


class NoticeSender:
    def __init__(self, core: Core, notifier: Notifier, render: Renderer, me: str | None = None):
        self.core = core
        self.notifier = notifier
        self.render = render
        self.outbox = Outbox(core.db, me or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:128])

    def deliver(self) -> int:
        """Send what is pending; returns how many notices were sent. Returns 0 at once when
        another process (or thread) is sending: it sends these too."""
        if not self.core.locks.try_router(SENDER_LOCK, timeout=0):
            return 0
        try:
            return self._deliver()
        finally:
            self.core.locks.release_router(SENDER_LOCK)

    def _deliver(self) -> int:
        sent = 0
        held_back: set[tuple[str, str]] = set()  # a subject whose notice failed: its later ones wait
        for notice_id, subject, channel in self.outbox.pending():
            if (subject, channel) in held_back:
                continue
            notice = self.outbox.claim(notice_id)
            if notice is None:
                continue  # another process has it
            try:
                message = self.render(notice)
                if notice.thread_ts:
                    message = {**message, "thread_ts": notice.thread_ts, "reply_broadcast": notice.broadcast}
                answer = self.notifier.send(notice.channel, message)
            except Exception as exc:  # noqa: BLE001 - kept in the outbox, tried again next round
                error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error") or type(exc).__name__
                log.warning("notice #%s to %s not sent (%s); kept for the next round", notice.id, notice.channel, error)
                held_back.add((notice.subject, notice.channel))
                self.outbox.release(notice)
                continue
            self.outbox.sent(notice, answer.get("ts"))
            sent += 1
        return sent
