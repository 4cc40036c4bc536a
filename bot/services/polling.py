"""Reading BGP state back from routers and storing it: one router, all routers, one session."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import object_session

from bot.core import Core
from bot.errors import NotFound
from bot.routers import NeighborState, RouterError, RouterTimeout
from bot.routers.parsers.common import norm_ip
from bot.services import poll_claims
from bot.services.router_config import (
    ChangeError, DriverFactory, credentials_for, open_router, load_session,
)
from bot.services.history import record_change
from bot.services.notices import ChangeFact, notice_reachable, notice_unreachable, notices_for_poll
from bot.services.router_pool import run_each
from bot.services.views import SessionView
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


class StatePoller:
    """Polls routers through the injected driver factory (tests pass fakes)."""

    def __init__(self, core: Core, driver_factory: DriverFactory | None = None):
        self.core = core
        self.driver_factory = driver_factory  # None: the core's (netmiko unless a test injects one)

    def poll_router(self, router_id: int, *, spacing: float | None = None) -> PollResult:
        """Poll one router now. Skipped (not waited for) while a change to it runs or another
        process polls it. `spacing`: a scheduled poll, skipped unless the router is due, and
        not due again for `spacing` s (see poll_claims)."""
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
            settings = self.core.settings
            claimed = poll_claims.claim(s, router_id, lease=settings.poll_timeout + settings.router_timeout,
                                        spacing=spacing)
        if not claimed:
            why = "being polled by another process" if spacing is None else "not due, or polled by another process"
            return PollResult(router_id, name, False, f"{name}: skipped ({why})", skipped=True)
        try:
            # Under the router's change lock: a reading taken before a change and stored after it
            # would overwrite the change's result with stale state. Not waited for: the change
            # reads the router back itself, and the next poll comes anyway.
            if not self.core.locks.try_router(router_id, timeout=0):
                self._release(router_id)
                return PollResult(router_id, name, False, f"{name}: skipped (a change to it is in progress)",
                                  skipped=True)
            try:
                return self._read_and_store(router_id, name, creds)  # releases the claim as it stores
            finally:
                self.core.locks.release_router(router_id)
        except BaseException:
            self._release(router_id)
            raise

    def _release(self, router_id: int) -> None:
        with self.core.db.session() as s:
            poll_claims.release(s, router_id)

    def _read_and_store(self, router_id: int, name: str, creds) -> PollResult:  # noqa: ANN001
        try:
            with open_router(self.core, creds, self.driver_factory) as drv:
                states = drv.neighbors()
        except RouterError as exc:
            msg = f"{name}: {exc}"
            with self.core.db.session() as s:
                router = s.get(Router, router_id)
                notice_unreachable(s, self.core.settings, router, msg)  # with the error, once
                router.last_error = msg
                poll_claims.release(s, router_id)
            return PollResult(router_id, name, False, msg, timed_out=isinstance(exc, RouterTimeout))
        return self._store_poll(router_id, name, states)

    def _store_poll(self, router_id: int, name: str, states: dict[str, NeighborState]) -> PollResult:
        now = datetime.now(timezone.utc)
        with self.core.db.session() as s:
            router = s.get(Router, router_id)
            notice_reachable(s, self.core.settings, router)
            router.last_polled, router.last_error = now, None
            poll_claims.release(s, router_id)
            # Most polls change nothing but last_polled: apply_state runs first on plain copies of
            # the state columns, and only the sessions it would change are loaded and written;
            # every session's last_polled goes in one UPDATE (50 sessions were 50 UPDATEs a poll).
            current = s.execute(select(Session.id, Session.peer_ip, *_STATE_COLUMNS)
                                .where(Session.router_id == router_id)).all()
            to_write = {}
            for r in current:
                copy = SimpleNamespace(**{c.key: getattr(r, c.key) for c in _STATE_COLUMNS})
                _apply(copy, states.get(norm_ip(r.peer_ip)), now)  # type: ignore[arg-type]
                if any(getattr(copy, c.key) != getattr(r, c.key) for c in _STATE_COLUMNS if c.key != "last_polled"):
                    to_write[r.id] = (r.bgp_state, r.last_state_change)
            changed = []
            if to_write:
                for row in s.scalars(select(Session).where(Session.id.in_(to_write))):
                    apply_state(row, states.get(norm_ip(row.peer_ip)), now)  # + its history row
                    if to_write[row.id][0] != row.bgp_state:
                        changed.append((row, *to_write[row.id]))
                s.flush()
            s.execute(update(Session).where(Session.router_id == router_id).values(last_polled=now)
                      .execution_options(synchronize_session=False))
            # peer names only for the sessions that changed, in one query
            peer_ids = {row.peer_id for row, _, _ in changed}
            names = dict(s.execute(select(Peer.id, Peer.name).where(Peer.id.in_(peer_ids))).all()) if changed else {}
            changes = [ChangeFact(row.id, names.get(row.peer_id, ""), row.peer_ip, name, old, row.bgp_state, since,
                                   row.last_error if row.bgp_state != "Established" else None)
                       for row, old, since in sorted(changed, key=lambda c: c[0].id)]
            # decided with the history rows, in this transaction: never lost, never twice
            notices_for_poll(s, self.core.settings, router, changes, now)
        count = len(current)
        return PollResult(router_id, name, True, f"{name}: {count} session(s) polled, {len(changes)} changed",
                          changes, count)

    def router_ids(self) -> list[int]:
        with self.core.db.session() as s:
            return list(s.scalars(select(Router.id).order_by(Router.name)))

    def poll_all(self, *, spacing: float | None = None) -> list[PollResult]:
        """Every router, PEERBOT_POLL_CONCURRENCY at once, each within PEERBOT_POLL_TIMEOUT; in
        name order. `spacing`: scheduled (see poll_router)."""
        with self.core.db.session() as s:
            routers = [tuple(r) for r in s.execute(select(Router.id, Router.name).order_by(Router.name))]
        settings = self.core.settings
        outcomes = run_each(lambda r: self.poll_router(r[0], spacing=spacing), routers,
                            concurrency=settings.poll_concurrency, timeout=settings.poll_timeout)
        results = []
        for o in outcomes:
            router_id, name = o.item
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
        return results

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


# What apply_state reads and writes: _store_poll runs it on copies of these first.
_STATE_COLUMNS = (Session.last_polled, Session.needs_check, Session.configured, Session.admin_status,
                  Session.bgp_state, Session.last_state_change, Session.prefixes_received,
                  Session.prefixes_accepted, Session.prefixes_advertised, Session.last_error)


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
