"""Scheduled refreshes: poll every router over SSH; the state changes they stored (with their
notices, bot/notices/outbox.py) are then sent by the notice sender."""
from __future__ import annotations

import logging
import threading
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot.notices.sender import NoticeSender
from bot.changes.executor import Changes
from bot.notices.outbox import stable_sweep
from bot.polling.poller import PollResult

log = logging.getLogger(__name__)
POLL_JOB = "poll-routers"
SPACING = 0.8  # of the interval: a scheduled poll makes its router due again after this


def once_across_processes(core: Any, job: str, seconds: float, run: Any, lock: int | None = None) -> Any:
    """`run` wrapped for a scheduler that every process has: it runs only in the process that
    claimed this interval's run in the database (bot/core/runs.py: no process started `job` in
    the last SPACING x `seconds`), and with `lock` (a negative key of core.locks) never two at
    once, also when one run outlasts the interval."""
    from bot.core.runs import claim_run

    def wrapped() -> None:
        if not claim_run(core.db, job, seconds * SPACING):
            log.debug("%s: run by another process this interval", job)
            return
        if lock is not None and not core.locks.try_router(lock, timeout=0):
            log.info("%s: still running in another process; this run skipped", job)
            return
        try:
            run()
        finally:
            if lock is not None:
                core.locks.release_router(lock)

    return wrapped


def _background(misfire_grace: int) -> BackgroundScheduler:
    """A scheduler for one periodic job: runs that pile up (a slow run, a sleeping laptop)
    coalesce into one, never two at once, and a run late by more than `misfire_grace` s is dropped."""
    return BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace})


class Poller:
    """One poll of all routers. Each poll stores its changes with their notices (one
    transaction); then flapping sessions that calmed down get their "stable again", and the
    sender posts what is pending (also what a previous process left unsent)."""

    def __init__(self, changes: Changes, sender: NoticeSender | None = None):
        self.changes = changes
        # routers are polled side by side on the router pool (bot/routers/pool.py)
        self.sender = sender
        # Set by start_scheduler: polls are then "scheduled" (claimed in the database so that with
        # two processes a router is polled once per interval); 0: every run_once polls every router.
        self.interval = 0

    def run_once(self) -> list[PollResult]:
        results = self._poll_all()
        log.info("poll: %s", "; ".join(r.message for r in results) or "no routers")
        core = self.changes.core
        stable_sweep(core.db, core.settings)
        if self.sender is not None:
            self.sender.deliver()
        return results


    def _poll_all(self) -> list[PollResult]:
        # due again a little before the next tick: another process's ticks fall in between
        spacing = self.interval * SPACING if self.interval else None
        return self.changes.poll_all(spacing=spacing)


def start_scheduler(poller: Poller, interval_seconds: int) -> BackgroundScheduler | None:
    if interval_seconds <= 0:
        return None
    poller.interval = interval_seconds
    # the poll's reader processes start now, not in the first poll (a second or two of imports)
    threading.Thread(target=poller.changes.warm_up, name="peerbot-warm-up", daemon=True).start()
    sched = _background(interval_seconds)
    sched.add_job(poller.run_once, "interval", seconds=interval_seconds, id=POLL_JOB)
    sched.start()
    return sched


NOTICE_JOB = "send-notices"


def start_notice_sender(sender: NoticeSender, seconds: float = 10) -> BackgroundScheduler:
    """Send pending notices every few seconds too: a poll asked for in Slack (Refresh) stores its
    notices like a scheduled one, and they should not wait for the next scheduled poll."""
    sched = _background(60)
    sched.add_job(sender.deliver, "interval", seconds=seconds, id=NOTICE_JOB)
    sched.start()
    return sched


HISTORY_JOB = "prune-history"


def start_history_pruning(core: Any) -> BackgroundScheduler:
    """Delete state history older than PEERBOT_HISTORY_DAYS, once a day (first an hour after start)."""
    from datetime import datetime, timedelta, timezone

    from bot.polling.history import prune_history

    def run() -> None:
        gone = prune_history(core.db, core.settings.history_days)
        if gone:
            log.info("state history: %s change(s) older than %s days deleted", gone, core.settings.history_days)

    sched = _background(3600)
    sched.add_job(once_across_processes(core, HISTORY_JOB, 24 * 3600, run), "interval", hours=24, id=HISTORY_JOB, next_run_time=datetime.now(timezone.utc) + timedelta(hours=1))
    sched.start()
    return sched


PEERINGDB_JOB = "peeringdb-sync"
# Cross-process locks of the scheduled jobs (core.locks; router locks are keyed by router id,
# always positive; the notice sender holds -11, the drift check -12 below).
IRR_REFRESH_LOCK = -13
PEERINGDB_LOCK = -14


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
    sched = _background(seconds)
    sched.add_job(once_across_processes(core, PEERINGDB_JOB, seconds, run, PEERINGDB_LOCK), "interval",
                  seconds=seconds, id=PEERINGDB_JOB,
                  next_run_time=datetime.now(timezone.utc) + timedelta(minutes=1))
    sched.start()
    return sched


IRR_REFRESH_JOB = "irr-refresh"


def start_irr_refresh(refresher: Any, hours: float, core: Any = None) -> BackgroundScheduler | None:
    """Re-import every AS-SET in use every `hours` (PEERBOT_IRR_REFRESH_HOURS; 0 = off), the first
    time five minutes after start. `refresher` is a bot.irr.refresh.IrrRefresher: bgpq4 runs on
    the worker pool, changes become change requests, one summary goes to the notify channel.
    With `core`, once per interval across processes (once_across_processes)."""
    if hours <= 0:
        return None
    from datetime import datetime, timedelta, timezone

    seconds = int(hours * 3600)
    sched = _background(seconds)
    run = refresher.run_once if core is None else \
        once_across_processes(core, IRR_REFRESH_JOB, seconds, refresher.run_once, IRR_REFRESH_LOCK)
    sched.add_job(run, "interval", seconds=seconds, id=IRR_REFRESH_JOB,
                  next_run_time=datetime.now(timezone.utc) + timedelta(minutes=5))
    sched.start()
    return sched


DRIFT_JOB = "drift-check"
# The key of the cross-process lock held while a scheduled drift check runs (router locks are keyed
# by router id, always positive; the notice sender holds -11): one check at a time across processes.
DRIFT_LOCK = -12


def start_drift_check(core: Any, drift: Any, hours: float) -> BackgroundScheduler | None:
    """Compare every router with the database every `hours` (PEERBOT_DRIFT_HOURS; 0 = off), the
    first time ten minutes after start. `drift` is a bot.adoption.drift.Drift: the routers are
    read on the pollers' pool, changed reports go to the notice outbox."""
    if hours <= 0:
        return None
    from datetime import datetime, timedelta, timezone

    def run() -> None:
        reports = drift.check()
        failed = [r.router for r in reports if not r.ok]
        if failed:
            log.warning("drift check: %d router(s) could not be read: %s", len(failed), ", ".join(failed[:10]))

    seconds = int(hours * 3600)
    sched = _background(seconds)
    sched.add_job(once_across_processes(core, DRIFT_JOB, seconds, run, DRIFT_LOCK), "interval",
                  seconds=seconds, id=DRIFT_JOB,
                  next_run_time=datetime.now(timezone.utc) + timedelta(minutes=10))
    sched.start()
    return sched
