"""What the App Home tab shows, in a few aggregate queries whatever the fleet's size: sessions
by state (counts), routers (errors first, then the longest unpolled), sessions that changed in
the last 24 h, and the change requests waiting for an approver. Lists are top-N with totals."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from bot.core import Core
from bot.changes.records import RequestView
from bot.changes.requests import ChangeRequests
from storage.models import OPEN_CHANGE_STATES, ChangeRequest, DriftItem, Peer, Router, Session, StateHistory

TOP = 10


@dataclass(frozen=True)
class RouterLine:
    name: str
    last_polled: datetime | None
    last_error: str | None
    sessions: int


@dataclass(frozen=True)
class ChangedLine:
    session_id: int
    peer_name: str
    peer_ip: str
    router_name: str
    state: str | None
    changes: int  # in the last 24 h
    last_change: datetime


@dataclass(frozen=True)
class HomeSummary:
    now: datetime
    total_sessions: int
    by_state: list[tuple[str | None, int]]  # (bgp_state, count), most first; None = never polled
    routers: list[RouterLine]
    routers_total: int
    routers_failing: int
    changed: list[ChangedLine]
    changed_total: int  # sessions with a change in the last 24 h
    pending: list[RequestView] = field(default_factory=list)
    pending_total: int = 0
    drift_open: int = 0  # differences between the routers and the database not yet decided (issue 17)


def home_summary(core: Core, *, top: int = TOP, now: datetime | None = None) -> HomeSummary:
    now = now or datetime.now(timezone.utc)
    day_ago = now - timedelta(hours=24)
    with core.db.session() as s:
        by_state = [(state, n) for state, n in s.execute(
            select(Session.bgp_state, func.count()).group_by(Session.bgp_state).order_by(func.count().desc()))]
        per_router = (select(Session.router_id, func.count().label("n")).group_by(Session.router_id).subquery())
        routers = [RouterLine(name, polled, error, n or 0) for name, polled, error, n in s.execute(
            select(Router.name, Router.last_polled, Router.last_error, per_router.c.n)
            .outerjoin(per_router, per_router.c.router_id == Router.id)
            .order_by(Router.last_error.is_(None), Router.last_polled.is_not(None), Router.last_polled, Router.name)
            .limit(top))]
        routers_total = s.scalar(select(func.count()).select_from(Router)) or 0
        failing = s.scalar(select(func.count()).select_from(Router).where(Router.last_error.is_not(None))) or 0
        recent = (select(StateHistory.session_id, func.count().label("n"), func.max(StateHistory.at).label("last"))
                  .where(StateHistory.at >= day_ago).group_by(StateHistory.session_id).subquery())
        changed = [ChangedLine(sid, peer, ip, router, state, n, _aware(last)) for sid, peer, ip, router, state, n, last in s.execute(
            select(Session.id, Peer.name, Session.peer_ip, Router.name, Session.bgp_state, recent.c.n, recent.c.last)
            .join(recent, recent.c.session_id == Session.id).join(Peer, Peer.id == Session.peer_id)
            .join(Router, Router.id == Session.router_id)
            .order_by(recent.c.last.desc(), Session.id).limit(top))]
        changed_total = s.scalar(select(func.count(func.distinct(StateHistory.session_id)))
                                 .where(StateHistory.at >= day_ago)) or 0
        pending_total = s.scalar(select(func.count()).select_from(ChangeRequest)
                                 .where(ChangeRequest.state.in_(OPEN_CHANGE_STATES))) or 0
        drift_open = s.scalar(select(func.count()).select_from(DriftItem).where(DriftItem.status == "open")) or 0
    pending = ChangeRequests(core).list(states=OPEN_CHANGE_STATES, limit=top) if pending_total else []
    return HomeSummary(now, sum(n for _, n in by_state), by_state, routers, routers_total, failing, changed,
                       changed_total, pending, pending_total, drift_open)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
