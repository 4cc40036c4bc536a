"""Session state history: every BGP state change a poll or a change's read-back stores, what
`/peering show` tells of it (last changes, flaps over 24 h, time in state, 7 days for the
timeline image), and its pruning after PEERBOT_HISTORY_DAYS."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from storage.db import Database
from storage.models import Session, StateHistory

TIMELINE_DAYS = 7
FLAP_WINDOW = timedelta(hours=24)


def record_change(s: DbSession, row: Session, old: str | None, now: datetime, *, source: str = "poll",
                  reason: str | None = None) -> StateHistory:
    """Add the history row of `row`'s change from `old` to its current state (same transaction)."""
    entry = StateHistory(session_id=row.id, router_id=row.router_id, at=now, old_state=old, new_state=row.bgp_state,
                         reason=(reason or (row.last_error if row.bgp_state != "Established" else None) or None),
                         prefixes_received=row.prefixes_received, prefixes_accepted=row.prefixes_accepted,
                         source=source)
    if entry.reason:
        entry.reason = entry.reason[:500]
    s.add(entry)
    return entry


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    old: str | None
    new: str | None
    reason: str | None
    prefixes_received: int | None
    prefixes_accepted: int | None
    source: str

    @classmethod
    def of(cls, h: StateHistory) -> HistoryEntry:
        return cls(_aware(h.at), h.old_state, h.new_state, h.reason, h.prefixes_received, h.prefixes_accepted, h.source)


@dataclass(frozen=True)
class SessionHistory:
    """What /peering show says about a session's past."""

    session_id: int
    state: str | None
    since: datetime | None  # in the current state since (the router's uptime where it gives one)
    now: datetime
    recent: list[HistoryEntry] = field(default_factory=list)  # newest first
    changes_24h: int = 0
    window: list[HistoryEntry] = field(default_factory=list)  # oldest first, the last TIMELINE_DAYS days
    state_before_window: str | None = None  # the state at the start of the window

    @property
    def time_in_state(self) -> timedelta | None:
        return self.now - self.since if self.since else None


def session_history(db: Database, session_id: int, *, recent: int = 5, now: datetime | None = None) -> SessionHistory:
    now = now or datetime.now(timezone.utc)
    start = now - timedelta(days=TIMELINE_DAYS)
    with db.session() as s:
        row = s.get(Session, session_id)
        state = row.bgp_state if row else None
        since = _aware(row.last_state_change) if row and row.last_state_change else None
        last = s.scalars(select(StateHistory).where(StateHistory.session_id == session_id)
                         .order_by(StateHistory.at.desc(), StateHistory.id.desc()).limit(recent)).all()
        count = s.scalar(select(func.count()).select_from(StateHistory).where(
            StateHistory.session_id == session_id, StateHistory.at >= now - FLAP_WINDOW)) or 0
        window = s.scalars(select(StateHistory).where(StateHistory.session_id == session_id, StateHistory.at >= start)
                           .order_by(StateHistory.at, StateHistory.id)).all()
        before = s.scalars(select(StateHistory.new_state).where(StateHistory.session_id == session_id,
                                                                StateHistory.at < start)
                           .order_by(StateHistory.at.desc(), StateHistory.id.desc()).limit(1)).first()
        if before is None and window:
            before = window[0].old_state
        elif before is None:
            before = state
        return SessionHistory(session_id, state, since, now, [HistoryEntry.of(h) for h in last], count,
                              [HistoryEntry.of(h) for h in window], before)


def prune_history(db: Database, days: int, now: datetime | None = None) -> int:
    """Delete history older than `days`; returns how many rows went."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    with db.session() as s:
        return s.execute(delete(StateHistory).where(StateHistory.at < cutoff)).rowcount or 0


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)  # SQLite hands back naive datetimes
