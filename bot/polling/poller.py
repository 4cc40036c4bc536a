"""Reading BGP state back from routers and storing it: one router, all routers, one session."""
from __future__ import annotations

import logging
import operator
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import object_session

from bot.core import Core
from bot.base.errors import NotFound
from bot.routers import NeighborState, RouterCredentials, RouterError, RouterTimeout, state_readers
from bot.routers.parsers.common import norm_ip
from bot.polling import claims
from bot.routers.connect import ChangeError, DriverFactory, credentials_for, open_router
from bot.sessions.queries import load_session
from bot.polling.history import record_change
from bot.notices.outbox import ChangeFact, notice_reachable, notice_unreachable, notices_for_poll
from bot.routers.pool import run_each
from bot.sessions.views import SessionView
from storage.models import AdminStatus, Peer, Router, Session

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    router_id: int
    router_name: str
    ok: bool
    message: str
    changes: list[ChangeFact] = field(default_factory=list)  # the sessions whose state changed
    polled: int = 0
    # Not polled this time: a change to the router is running, another process is polling it,
    # or (scheduled polls) it is not due yet. Not a failure: nothing to report.
    skipped: bool = False
    timed_out: bool = False  # no answer in time (PEERBOT_ROUTER_TIMEOUT / PEERBOT_POLL_TIMEOUT)


@dataclass
class Reading:
    """What one router answered: its neighbor states, or the error (with the router's name)."""
    router_id: int
    name: str
    states: dict[str, NeighborState] | None
    error: str | None = None
    timed_out: bool = False


class GroupStore:
    """Group commit for the polls of a refresh: a poll's reading waits in a queue, and one poll at
    a time (the leader) stores everything queued (up to `max_batch` routers) in one transaction.
    A fleet refresh thus costs a few transactions instead of one per router (each with its fsync
    on SQLite, its round trips on PostgreSQL); a lone poll is stored at once. Once its own
    reading is stored, a leader hands the queue to the poll whose reading is next (that poll's
    thread wakes up and leads) instead of storing for others for ever; no other thread wakes
    up for nothing. A batch that fails is stored again router by router, so one bad reading
    fails only its own router."""

    _LEAD = object()  # a waiting poll's future set to this: it leads now

    def __init__(self, store_batch: Callable[[list[Reading]], list[PollResult | None]], max_batch: int = 50):
        self._store_batch = store_batch
        self._max = max_batch
        self._guard = threading.Lock()
        self._queue: list[tuple[Reading, Future]] = []
        self._leading = False

    def store(self, reading: Reading) -> PollResult | None:
        mine: Future = Future()
        with self._guard:
            self._queue.append((reading, mine))
            lead, self._leading = not self._leading, True
        if not lead:
            outcome = mine.result()
            if outcome is not self._LEAD:
                return outcome
            mine = Future()  # handed the lead: this poll's reading goes first
            with self._guard:
                self._queue.insert(0, (reading, mine))
        while True:
            with self._guard:
                batch, self._queue = self._queue[:self._max], self._queue[self._max:]
            self._run(batch)
            with self._guard:
                if not self._queue:
                    self._leading = False
                    break
                if mine.done():
                    _, successor = self._queue.pop(0)
                    successor.set_result(self._LEAD)
                    break
        return mine.result()

    def _run(self, batch: list[tuple[Reading, Future]]) -> None:
        try:
            results = self._store_batch([reading for reading, _ in batch])
        except Exception as exc:  # noqa: BLE001 - handed to the polls that wait for it
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            log.warning("storing %d polls together failed (%s); storing them one by one", len(batch),
                        type(exc).__name__)
            for item in batch:
                self._run([item])
            return
        for (_, future), result in zip(batch, results):
            future.set_result(result)


class StatePoller:
    """Polls routers through the injected driver factory (tests pass fakes)."""

    def __init__(self, core: Core, driver_factory: DriverFactory | None = None):
        self.core = core
        self.driver_factory = driver_factory  # None: the core's (netmiko unless a test injects one)
        self._processes, self._threads_per_process = state_readers.sizes(core.settings.poll_processes,
                                                                         core.settings.poll_concurrency)

    def poll_router(self, router_id: int, *, spacing: float | None = None) -> PollResult:
        """Poll one router now. Skipped (not waited for) while a change to it runs or another
        process polls it. `spacing`: a scheduled poll, skipped unless the router is due, and
        not due again for `spacing` s (see bot/polling/claims.py)."""
        with self.core.db.session() as s:
            router = s.get(Router, router_id)
            if router is None:
                raise NotFound(f"No router #{router_id}.")
            name = router.name
            try:
                creds = credentials_for(router)
            except ChangeError as exc:
                router.last_error = str(exc)
                return PollResult(router_id, name, False, str(exc))
        return self._poll(router_id, name, creds, spacing=spacing, store=self._store_one)

    def _poll(self, router_id: int, name: str, creds: RouterCredentials, *, spacing: float | None,
              store: Callable[[Reading], PollResult | None], claimed_at: float | None = None) -> PollResult:
        """Claim, lock, read, store (see poll_router). `claimed_at`: poll_all claimed the router
        already, at that time (monotonic); renewed here if it waited long in the queue."""
        settings = self.core.settings
        lease = settings.poll_timeout + settings.router_timeout
        if claimed_at is None:
            with self.core.db.session() as s:
                claimed = claims.claim(s, router_id, lease=lease, spacing=spacing)
        elif time.monotonic() - claimed_at > lease / 2:
            with self.core.db.session() as s:
                claimed = claims.renew(s, router_id, lease=lease)
        else:
            claimed = True
        if not claimed:
            return _not_claimed(router_id, name, spacing)
        try:
            # Under the router's change lock: a reading taken before a change and stored after it
            # would overwrite the change's result with stale state. Not waited for: the change
            # reads the router back itself, and the next poll comes anyway.
            if not self.core.locks.try_router(router_id, timeout=0):
                self._release(router_id)
                return PollResult(router_id, name, False, f"{name}: skipped (a change to it is in progress)",
                                  skipped=True)
            try:
                result = store(self._read(router_id, name, creds))  # releases the claim as it stores
            finally:
                self.core.locks.release_router(router_id)
        except BaseException:
            self._release(router_id)
            raise
        if result is None:
            raise NotFound(f"No router #{router_id}.")  # deleted while it was polled
        return result

    def _release(self, router_id: int) -> None:
        with self.core.db.session() as s:
            claims.release(s, router_id)

    def _read(self, router_id: int, name: str, creds: RouterCredentials) -> Reading:
        """The router's neighbor states, or why there are none."""
        settings = self.core.settings
        try:
            if self._uses_readers():
                states = self._readers().read(creds, settings.router_timeout,
                                              wait=settings.poll_timeout + settings.router_timeout)
            else:
                with open_router(self.core, creds, self.driver_factory) as drv:
                    states = drv.neighbors()
        except RouterError as exc:
            return Reading(router_id, name, None, f"{name}: {exc}", timed_out=isinstance(exc, RouterTimeout))
        return Reading(router_id, name, states)

    def warm_up(self) -> None:
        """Start the reader processes now (the first poll then does not wait for them)."""
        if self._uses_readers():
            try:
                self._readers().start()
            except OSError as exc:
                log.error("state reader processes could not start (%s); polls read in the bot's own threads",
                          type(exc).__name__)
                self._processes = 0

    def _uses_readers(self) -> bool:
        """Reads go to child processes (state_readers), unless a driver is injected (tests'
        fakes live in this process) or PEERBOT_POLL_PROCESSES is 0."""
        return self.driver_factory is None and self.core.driver_factory is None and self._processes > 0

    def _readers(self) -> state_readers.StateReaders:
        return state_readers.readers(self._processes, self._threads_per_process)

    def _store_one(self, reading: Reading) -> PollResult | None:
        return self._store_batch([reading])[0]

    def _store_batch(self, readings: list[Reading]) -> list[PollResult | None]:
        """Store the readings of several routers in one transaction: what each router answered,
        its sessions' states (+ history rows), its claim released, its notices decided. Most
        polls change nothing but last_polled, so the state columns are compared as plain values
        first and only the sessions that changed are loaded as objects. None: the router was
        deleted meanwhile."""
        now = datetime.now(timezone.utc)
        settings = self.core.settings
        out: dict[int, PollResult] = {}
        with self.core.db.session() as s:
            # plain values, not Router objects: what the notices read, and one UPDATE for all
            routers = {r.id: SimpleNamespace(id=r.id, name=r.name, last_error=r.last_error) for r in s.execute(
                select(Router.id, Router.name, Router.last_error).where(Router.id.in_([x.router_id for x in readings])))}
            answered = {x.router_id: x for x in readings if x.states is not None and x.router_id in routers}
            for x in readings:
                router = routers.get(x.router_id)
                if router is not None and x.states is None:
                    notice_unreachable(s, settings, router, x.error)  # with the error, once
                    s.execute(update(Router).where(Router.id == x.router_id).values(last_error=x.error)
                              .execution_options(synchronize_session=False))
                    out[x.router_id] = PollResult(x.router_id, x.name, False, x.error, timed_out=x.timed_out)
            for router_id in answered:
                notice_reachable(s, settings, routers[router_id])
            if answered:
                s.execute(update(Router).where(Router.id.in_(list(answered))).values(last_polled=now, last_error=None)
                          .execution_options(synchronize_session=False))
            claims.release_many(s, list(routers))
            if answered:
                current: dict[int, list] = {router_id: [] for router_id in answered}
                for r in s.execute(select(Session.router_id, Session.id, Session.peer_ip, *_STATE_COLUMNS)
                                   .where(Session.router_id.in_(list(answered)))):
                    current[r[0]].append(r)
                to_write = {}
                for router_id, rows in current.items():
                    states = answered[router_id].states
                    for r in rows:
                        values = tuple(r[3:])  # _STATE_COLUMNS' values (by position: a Row's names are slower)
                        copy = SimpleNamespace(**dict(zip(_STATE_KEYS, values)))
                        _apply(copy, states.get(norm_ip(r[2])), now)  # type: ignore[arg-type]
                        if _compared(copy) != values[1:]:  # (all but last_polled)
                            to_write[r[1]] = (values[_BGP_STATE], values[_LAST_CHANGE])
                changed: dict[int, list] = {router_id: [] for router_id in answered}
                if to_write:
                    for row in s.scalars(select(Session).where(Session.id.in_(list(to_write)))):
                        apply_state(row, answered[row.router_id].states.get(norm_ip(row.peer_ip)), now)  # + history
                        if to_write[row.id][0] != row.bgp_state:
                            changed[row.router_id].append((row, *to_write[row.id]))
                    s.flush()
                s.execute(update(Session).where(Session.router_id.in_(list(answered))).values(last_polled=now)
                          .execution_options(synchronize_session=False))
                # peer names only for the sessions that changed, in one query
                peer_ids = {row.peer_id for rows in changed.values() for row, _, _ in rows}
                names = dict(s.execute(select(Peer.id, Peer.name).where(Peer.id.in_(peer_ids))).all()) if peer_ids else {}
                for router_id, x in answered.items():
                    router = routers[router_id]
                    changes = [ChangeFact(row.id, names.get(row.peer_id, ""), row.peer_ip, x.name, old, row.bgp_state,
                                          since, row.last_error if row.bgp_state != "Established" else None)
                               for row, old, since in sorted(changed[router_id], key=lambda c: c[0].id)]
                    # decided with the history rows, in this transaction: never lost, never twice
                    notices_for_poll(s, settings, router, changes, now)
                    count = len(current[router_id])
                    out[router_id] = PollResult(router_id, x.name, True, f"{x.name}: {count} session(s) polled, "
                                                f"{len(changes)} changed", changes, count)
        return [out.get(x.router_id) for x in readings]

    def router_ids(self) -> list[int]:
        with self.core.db.session() as s:
            return list(s.scalars(select(Router.id).order_by(Router.name)))

    def poll_all(self, *, spacing: float | None = None) -> list[PollResult]:
        """Every router, PEERBOT_POLL_CONCURRENCY at once, each within PEERBOT_POLL_TIMEOUT; in
        name order. `spacing`: scheduled (see poll_router). Readings that arrive together are
        stored together (see GroupStore)."""
        routers, results, order = [], [], []
        with self.core.db.session() as s:  # every router's credentials in one query
            for router in s.scalars(select(Router).order_by(Router.name)):
                order.append(router.id)
                try:
                    routers.append((router.id, router.name, credentials_for(router)))
                except ChangeError as exc:
                    router.last_error = str(exc)
                    results.append(PollResult(router.id, router.name, False, str(exc)))
        settings = self.core.settings
        # the whole fleet claimed in one statement (a claim a router was a transaction a router)
        with self.core.db.session() as s:
            claimed = claims.claim_many(s, [r[0] for r in routers], spacing=spacing,
                                             lease=settings.poll_timeout + settings.router_timeout)
        claimed_at = time.monotonic()
        results += [_not_claimed(router_id, name, spacing) for router_id, name, _ in routers if router_id not in claimed]
        routers = [r for r in routers if r[0] in claimed]
        if routers:
            self.warm_up()  # (no processes in a locked-down container: then reads stay in threads)
        group = GroupStore(self._store_batch)
        outcomes = run_each(lambda r: self._poll(*r, spacing=spacing, store=group.store, claimed_at=claimed_at),
                            routers, concurrency=settings.poll_concurrency, timeout=settings.poll_timeout)
        for o in outcomes:
            router_id, name, _ = o.item
            if o.timed_out:
                results.append(PollResult(router_id, name, False, f"{name}: no answer within "
                                          f"{settings.poll_timeout:g} s; poll abandoned", timed_out=True))
            elif isinstance(o.error, NotFound):
                continue  # deleted meanwhile
            elif o.error is not None:
                log.error("poll of %s failed: %s", name, type(o.error).__name__, exc_info=o.error)
                results.append(PollResult(router_id, name, False, f"{name}: poll failed ({type(o.error).__name__})"))
            else:
                results.append(o.result)
        by_router = {r.router_id: r for r in results}
        return [by_router[router_id] for router_id in order if router_id in by_router]  # in name order

    def poll_session(self, session_id: int) -> SessionView:
        """Read one neighbor now (after Admin Up/Down) and store its state."""
        with self.core.db.session() as s:
            row = load_session(s, session_id)
            creds, ip, name, router_id = credentials_for(row.router), row.peer_ip, row.router.name, row.router_id
        with self.core.locks.router(router_id):  # see poll_router
            try:
                with open_router(self.core, creds, self.driver_factory) as drv:
                    state = drv.neighbor(ip)
            except RouterError as exc:
                raise ChangeError(f"{name}: {exc}") from None
            with self.core.db.session() as s:
                row = load_session(s, session_id)
                apply_state(row, state, datetime.now(timezone.utc))
                s.flush()
                return SessionView.of(row)


def _not_claimed(router_id: int, name: str, spacing: float | None) -> PollResult:
    """A router another process polls (or, scheduled, that is not due): skipped, not a failure."""
    why = "being polled by another process" if spacing is None else "not due, or polled by another process"
    return PollResult(router_id, name, False, f"{name}: skipped ({why})", skipped=True)


# What apply_state reads and writes: _store_batch runs it on copies of these first.
_STATE_COLUMNS = (Session.last_polled, Session.needs_check, Session.configured, Session.admin_status,
                  Session.bgp_state, Session.last_state_change, Session.prefixes_received,
                  Session.prefixes_accepted, Session.prefixes_advertised, Session.last_error)
_STATE_KEYS = tuple(c.key for c in _STATE_COLUMNS)
# what makes a session worth writing: all of them but last_polled (first; set for all in one UPDATE)
_compared = operator.attrgetter(*_STATE_KEYS[1:])
_BGP_STATE, _LAST_CHANGE = _STATE_KEYS.index("bgp_state"), _STATE_KEYS.index("last_state_change")


def apply_state(row: Session, state: NeighborState | None, now: datetime, *, source: str = "poll",
                reason: str | None = None) -> None:
    """Store a reading of the neighbor; a change of BGP state is also added to its history."""
    old = row.bgp_state
    _apply(row, state, now)
    s = object_session(row)
    if row.bgp_state != old and s is not None:
        record_change(s, row, old, now, source=source, reason=reason)


def _apply(row: Session, state: NeighborState | None, now: datetime) -> None:
    row.last_polled = now
    reconciling = row.needs_check
    if reconciling:
        reconcile(row, state)
    if state is None:
        if not row.configured:
            new = None
        else:  # an admin-down neighbor is not listed on every platform (Junos deactivate)
            new = "Idle" if row.admin_status == AdminStatus.DOWN else "NotFound"
        if row.bgp_state != new:
            row.last_state_change = now
        row.bgp_state = new
        row.prefixes_received = row.prefixes_accepted = row.prefixes_advertised = None
        return
    new_state = state.state
    if row.bgp_state != new_state:
        row.last_state_change = now - timedelta(seconds=state.uptime_seconds) if state.uptime_seconds else now
    row.bgp_state = new_state
    row.prefixes_received = state.prefixes_received
    row.prefixes_accepted = state.prefixes_accepted
    row.prefixes_advertised = state.prefixes_advertised
    # The router is the truth: a shutdown or no-shutdown made by hand is followed. Not after an
    # interrupted change: a new neighbor is created shut down and enabled by the last line, so
    # its shutdown says where the push stopped, not what the operator wants.
    if not reconciling:
        row.admin_status = AdminStatus.DOWN if state.admin_down else AdminStatus.UP
    if state.last_error and new_state != "Established":
        row.last_error = state.last_error[:2000]



def reconcile(row: Session, state: NeighborState | None) -> None:
    """After a change was cut off half-way, the router says what it holds: the session follows."""
    row.needs_check = False
    if state is not None:
        row.configured = True
        row.last_error = ("Found on the router after an interrupted change: Configure again so that every line "
                          "is applied (or Delete).")
    elif row.admin_status != AdminStatus.DOWN:  # (an admin-down neighbor may be hidden: Junos)
        row.configured = False
        row.last_error = "Not on the router after an interrupted change: nothing of it was left."
