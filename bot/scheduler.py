"""Scheduled refreshes: poll every router over SSH and post state changes to a channel."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot.notify import Notifier
from bot.services.changes import Changes
from bot.services.polling import PollResult
from bot.workers import Workers

log = logging.getLogger(__name__)
POLL_JOB = "poll-routers"
SPACING = 0.8  # of the interval: a scheduled poll makes its router due again after this

Renderer = Callable[[PollResult, str | None], dict[str, Any] | None]


class Poller:
    """One poll of all routers; posts a notice per router whose sessions changed state, and
    one when a router becomes unreachable (not again until it recovers)."""

    def __init__(self, changes: Changes, notifier: Notifier | None, channel: str | None, render: Renderer,
                 workers: Workers | None = None):
        self.changes = changes
        # (kept for callers) routers are polled side by side on the router pool (bot/services/router_pool.py)
        self.workers = workers
        # Set by start_scheduler: polls are then "scheduled" (claimed in the database so that with
        # two processes a router is polled once per interval); 0: every run_once polls every router.
        self.interval = 0
        self.notifier = notifier
        self.channel = channel
        self.render = render
        self._last_error: dict[int, str | None] = {}

    def run_once(self) -> list[PollResult]:
        results = self._poll_all()
        for r in results:
            if r.skipped:  # a change to it runs, or another process polls it: nothing new to say
                continue
            previous = self._last_error.get(r.router_id)
            self._last_error[r.router_id] = None if r.ok else r.message
            if self.notifier is None or not self.channel:
                continue
            message = self.render(r, previous)
            if message is not None:
                self.notifier.post(self.channel, message)
        log.info("poll: %s", "; ".join(r.message for r in results) or "no routers")
        return results


    def _poll_all(self) -> list[PollResult]:
        # due again a little before the next tick: another process's ticks fall in between
        spacing = self.interval * SPACING if self.interval else None
        return self.changes.poll_all(spacing=spacing)


def start_scheduler(poller: Poller, interval_seconds: int) -> BackgroundScheduler | None:
    if interval_seconds <= 0:
        return None
    poller.interval = interval_seconds
    sched = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": interval_seconds})
    sched.add_job(poller.run_once, "interval", seconds=interval_seconds, id=POLL_JOB)
    sched.start()
    return sched


PEERINGDB_JOB = "peeringdb-sync"


def start_peeringdb_sync(core: Any, hours: float) -> BackgroundScheduler | None:
    """Sync the PeeringDB mirror every `hours` (PEERBOT_PEERINGDB_SYNC_HOURS; 0 = off), first run
    one minute after start so serving is not delayed."""
    if hours <= 0:
        return None
    from datetime import datetime, timedelta, timezone

    from bot.peeringdb.client import PeeringDBClient
    from bot.peeringdb.sync import sync

    def run() -> None:
        report = sync(core.db, PeeringDBClient.from_settings(core.settings))
        if not report.ok:
            log.warning("scheduled PeeringDB sync: %s", report.error)

    seconds = int(hours * 3600)
    sched = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": seconds})
    sched.add_job(run, "interval", seconds=seconds, id=PEERINGDB_JOB,
                  next_run_time=datetime.now(timezone.utc) + timedelta(minutes=1))
    sched.start()
    return sched
