"""Carries approved change requests out on peerbot's worker pool, and keeps Slack in step.

- `submit(id)`: run one request now (after an approval, or one that needed none).
- `sweep()`, every few seconds on a thread of its own: expire old requests, pick up approved ones
  this process has not queued (approved from the CLI, another process, or before a restart),
  report `running` requests left by a stopped process as "outcome unknown" and poll their
  routers, and bring Slack messages in step with the database (the reporter).
- Polls (Refresh, `/peering refresh`) run on the same pool.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from bot.core import Core
from bot.changes.records import RequestView
from bot.changes.requests import ChangeRequests
from bot.changes.executor import Changes
from bot.sessions.views import SessionView
from bot.core.workers import Workers
from storage.models import ChangeState

log = logging.getLogger(__name__)

# After Admin Up/Down, read the neighbor again every FOLLOW_INTERVAL s, for at most
# FOLLOW_TIMEOUT s, until it reaches the state the action leads to.
FOLLOW_INTERVAL = 2.0
FOLLOW_TIMEOUT = 20.0
SWEEP_INTERVAL = 5.0
# The cross-process lock of the sweep's Slack catch-up (core.locks; router locks are keyed by
# router id, always positive): with several processes, one of them brings the messages of
# requests made or run elsewhere in step, not each (one chat.update, not N).
REPORT_LOCK = -15


class Reporter(Protocol):
    def sync(self, request: RequestView, note: str | None = None) -> None:
        """Show the request's current state in Slack (approval message, the message it came from)."""

    def unknown_outcome(self, request: RequestView) -> None:
        """A request was left running by a process that stopped."""


def reached(action: str, view: SessionView) -> bool:
    if action == "admin_up":
        return view.bgp_state == "Established"
    return view.bgp_state != "Established"  # admin_down: Idle (Admin)


class ChangeRunner:
    def __init__(self, core: Core, workers: Workers, requests: ChangeRequests | None = None,
                 reporter: Reporter | None = None):
        self.core = core
        self.workers = workers
        self.requests = requests or ChangeRequests(core)
        self.changes: Changes = self.requests.changes
        self.reporter = reporter
        self._queued: set[int] = set()
        self._guard = threading.Lock()
        self._polls: dict[str, list[Callable[[object | Exception], None]]] = {}  # key -> waiting `done`s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # called with each request this runner finished (on the worker that ran it): e.g. drift
        # re-reads the router of a Fix (bot/adoption/drift.py); a failing hook is logged only
        self.after_run: list[Callable[[RequestView], None]] = []

    # -- changes ------------------------------------------------------------------------------------
    def submit(self, request_id: int) -> None:
        with self._guard:
            if request_id in self._queued:
                return
            self._queued.add(request_id)
        self.workers.submit(f"change #{request_id}", self._run, request_id)

    def _run(self, request_id: int) -> None:
        try:
            view = self.requests.run(request_id, on_claimed=self._report)
        finally:
            with self._guard:
                self._queued.discard(request_id)
        if view is None:
            return
        self._report(view)
        for hook in self.after_run:
            try:
                hook(view)
            except Exception:  # noqa: BLE001 - the change is done; a hook is a follow-up
                log.exception("request #%s: a follow-up failed", view.id)
        if view.state == ChangeState.DONE and view.action in ("admin_up", "admin_down") and len(view.items) == 1:
            self._follow(view)

    def _follow(self, request: RequestView) -> None:
        """Poll the neighbor until it reaches the state the action leads to (bounded), then report."""
        sid = request.session_ids[0]
        deadline = time.monotonic() + FOLLOW_TIMEOUT
        while time.monotonic() < deadline and not self._stop.is_set():
            try:
                view = self.changes.poll_session(sid)
            except Exception as exc:  # noqa: BLE001 - the change is done; the follow-up is best effort
                log.info("request #%s: follow-up poll failed: %s", request.id, type(exc).__name__)
                return
            if not view.configured or reached(request.action, view):
                self._report(request, note=f"BGP state now {view.bgp_state or 'unknown'}.")
                return
            time.sleep(FOLLOW_INTERVAL)
        self._report(request, note=f"Still not {'Established' if request.action == 'admin_up' else 'down'} "
                                   f"after {FOLLOW_TIMEOUT:.0f} s: Refresh later.")

    def _report(self, view: RequestView, note: str | None = None) -> None:
        if self.reporter is None:
            return
        try:
            self.reporter.sync(view, note)
        except Exception:  # noqa: BLE001 - the sweep tries again (reported_state stays behind)
            log.exception("could not report request #%s to Slack", view.id)

    # -- polls --------------------------------------------------------------------------------------
    def poll(self, job: Callable[[Changes], object], done: Callable[[object | Exception], None],
             key: str | None = None) -> None:
        """Run a poll (`job(changes)`) on the pool and hand its result (or exception) to `done`.

        `key` names what is polled ("all", "router:3", "session:7"): a poll asked for while the
        same one is queued or running joins it and gets its result. Otherwise every click on a
        Refresh button (anyone may press it, as often as they like) would log in to every router
        again, and polls waiting on a slow router would fill the pool that changes run on."""
        if key is not None:
            with self._guard:
                if key in self._polls:
                    self._polls[key].append(done)
                    return
                self._polls[key] = [done]

        def run() -> None:
            try:
                result: object | Exception = job(self.changes)
            except Exception as exc:  # noqa: BLE001 - handed to `done`, which tells the user
                result = exc
            if key is None:
                done(result)
                return
            with self._guard:
                waiting = self._polls.pop(key, [])
            for each in waiting:
                try:
                    each(result)
                except Exception:  # noqa: BLE001 - one waiter's failure is not the others'
                    log.exception("a poll's result could not be reported")

        self.workers.submit("poll", run)

    # -- the sweep ----------------------------------------------------------------------------------
    def sweep(self) -> None:
        for rid in self.requests.expire_due():
            self._report(self.requests.get(rid))
        for view in self.requests.recover():
            log.warning("request #%s: %s", view.id, view.outcome)
            if self.reporter is not None:
                try:
                    self.reporter.unknown_outcome(view)
                except Exception:  # noqa: BLE001
                    log.exception("could not report request #%s", view.id)
            for router_id in view.router_ids:
                self.workers.submit(f"poll router #{router_id}", self.changes.poll_router, router_id)
        for rid in self.requests.runnable_ids():
            self.submit(rid)
        if self.reporter is not None and self.core.locks.try_router(REPORT_LOCK, timeout=0):
            try:
                with self._guard:
                    busy = set(self._queued)
                for view in self.requests.unreported():
                    if view.id not in busy:
                        self._report(view)
            finally:
                self.core.locks.release_router(REPORT_LOCK)

    def start(self, interval: float = SWEEP_INTERVAL) -> ChangeRunner:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.sweep()
                except Exception:  # noqa: BLE001 - e.g. the database is briefly away: try again
                    log.exception("change sweep failed")
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="peerbot-change-sweep", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
