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

Renderer = Callable[[PollResult, str | None], dict[str, Any] | None]


class Poller:
    """One poll of all routers; posts a notice per router whose sessions changed state, and
    one when a router becomes unreachable (not again until it recovers)."""

    def __init__(self, changes: Changes, notifier: Notifier | None, channel: str | None, render: Renderer,
                 workers: Workers | None = None):
        self.changes = changes
        self.workers = workers  # routers polled side by side there: a hanging one delays only itself
        self.notifier = notifier
        self.channel = channel
        self.render = render
        self._last_error: dict[int, str | None] = {}

    def run_once(self) -> list[PollResult]:
        results = self._poll_all()
        for r in results:
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
        if self.workers is None:
            return self.changes.poll_all()
        jobs = [self.workers.submit(f"poll router #{rid}", self.changes.poll_router, rid)
                for rid in self.changes.router_ids()]
        results = []
        for job in jobs:
            try:
                results.append(job.result())
            except Exception:  # noqa: BLE001 - e.g. the router was deleted meanwhile (logged by the pool)
                continue
        return results


def start_scheduler(poller: Poller, interval_seconds: int) -> BackgroundScheduler | None:
    if interval_seconds <= 0:
        return None
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


IRR_REFRESH_JOB = "irr-refresh"


def start_irr_refresh(refresher: Any, hours: float) -> BackgroundScheduler | None:
    """Re-import every AS-SET in use every `hours` (PEERBOT_IRR_REFRESH_HOURS; 0 = off), the first
    time five minutes after start. `refresher` is a bot.irr.refresh.IrrRefresher: bgpq4 runs on
    the worker pool, changes become change requests, one summary goes to the notify channel."""
    if hours <= 0:
        return None
    from datetime import datetime, timedelta, timezone

    seconds = int(hours * 3600)
    sched = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": seconds})
    sched.add_job(refresher.run_once, "interval", seconds=seconds, id=IRR_REFRESH_JOB,
                  next_run_time=datetime.now(timezone.utc) + timedelta(minutes=5))
    sched.start()
    return sched
