"""Which channel notices a poll's state changes deserve, and the outbox that holds them.

Notices are decided where the changes are stored, in the same transaction (a `notice` row
beside the `state_history` rows), so that what must be said is never lost by a restart and is
decided once even with two bot processes. bot/notices/sender.py posts them.

The rules (settings in brackets):
- a session's notices go into one thread (its first notice opens it in the channel);
- a reply is also broadcast to the channel when the session recovers (back to Established) or
  goes down after having been up for a while [PEERBOT_NOTIFY_BROADCAST_UP_MINUTES], and
  nothing else of a session's is; router-level notices (summary, unreachable, reachable again)
  have a thread of their own, the router's, and its replies are always broadcast;
- a router poll with many changes [PEERBOT_NOTIFY_SUMMARY_MIN] posts one summary in the
  router's thread instead; those sessions' own threads get nothing for it (folded: their
  history still holds each change);
- a router that becomes unreachable posts one notice (and one when it answers again);
- more than [PEERBOT_FLAP_CHANGES] changes of a session within [PEERBOT_FLAP_MINUTES]: one
  "flapping" notice, then nothing for that session until it has been stable for the window,
  then one "stable again";
- a session's first reading (no state before) is history, not news.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session as DbSession

from bot.core.settings import Settings
from storage.db import Database
from storage.models import Notice, NoticeThread, Router, Session, StateHistory

UP = "Established"
MAX_ATTEMPTS = 5  # Slack refused a notice this often (after its own 429 retries): given up
SUMMARY_KEEP = 100  # sessions a summary payload lists (the renderer shows fewer, with "and N more")


def session_subject(session_id: int) -> str:
    return f"session:{session_id}"


def router_subject(router_id: int) -> str:
    return f"router:{router_id}"


@dataclass(frozen=True)
class ChangeFact:
    """One stored state change, as the notice rules need it."""

    session_id: int
    peer_name: str
    peer_ip: str
    router_name: str
    old: str | None
    new: str | None
    since: datetime | None = None  # when the session entered `old`
    reason: str | None = None

    def line(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "peer": self.peer_name, "ip": self.peer_ip, "old": self.old,
                "new": self.new}


# -- deciding (inside the transaction that stores the changes) ---------------------------------------
def notices_for_poll(s: DbSession, settings: Settings, router: Router, changes: Iterable[ChangeFact],
                     now: datetime) -> list[Notice]:
    channel = settings.notify_channel
    news = [c for c in changes if c.old is not None]  # a first reading is not news
    if not channel or not news:
        return []
    if len(news) >= settings.notify_summary_min:
        lost = sum(1 for c in news if c.old == UP)
        return [add_notice(s, "summary", channel, router_subject(router.id), broadcast=True, payload={
            "router": router.name, "router_id": router.id, "count": len(news), "lost": lost,
            "sessions": [c.line() for c in news[:SUMMARY_KEEP]]})]
    out = []
    window = timedelta(minutes=settings.flap_minutes)
    for c in news:
        subject = session_subject(c.session_id)
        thread = _thread(s, channel, subject)
        if thread.flapping_since is not None:
            continue  # quiet until stable again (stable_sweep)
        recent = s.scalar(select(func.count()).select_from(StateHistory).where(
            StateHistory.session_id == c.session_id, StateHistory.at > now - window,
            StateHistory.old_state.is_not(None))) or 0  # a first reading is no flap
        payload = {**c.line(), "router": c.router_name, "reason": c.reason,
                   "since": c.since.isoformat() if c.since else None}
        if recent > settings.flap_changes:
            thread.flapping_since = now
            out.append(add_notice(s, "flapping", channel, subject, broadcast=False,
                            payload={**payload, "changes": recent, "minutes": settings.flap_minutes}))
            continue
        out.append(add_notice(s, "change", channel, subject, broadcast=_broadcast(c, now, settings), payload=payload))
    return out


def notice_unreachable(s: DbSession, settings: Settings, router: Router, error: str) -> Notice | None:
    """`router` stopped answering (call before its last_error is set): one notice, listing the
    sessions that were up."""
    if not settings.notify_channel or router.last_error is not None:
        return None  # said already (or the router was never reachable)
    up = s.execute(select(Session.id, Session.peer_ip).where(Session.router_id == router.id,
                                                            Session.bgp_state == UP).order_by(Session.peer_ip)).all()
    return add_notice(s, "unreachable", settings.notify_channel, router_subject(router.id), broadcast=True, payload={
        "router": router.name, "router_id": router.id, "error": error[:500], "count": len(up),
        "sessions": [{"session_id": sid, "ip": ip} for sid, ip in up[:SUMMARY_KEEP]]})


def notice_reachable(s: DbSession, settings: Settings, router: Router) -> Notice | None:
    """`router` answers again after failing (call before its last_error is cleared)."""
    if not settings.notify_channel or router.last_error is None:
        return None
    return add_notice(s, "reachable", settings.notify_channel, router_subject(router.id), broadcast=True,
                payload={"router": router.name, "router_id": router.id})


def stable_sweep(db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Sessions that flapped and have been quiet for the flap window: one "stable again" each."""
    if not settings.notify_channel:
        return 0
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(minutes=settings.flap_minutes)
    done = 0
    with db.session() as s:
        flapping = s.scalars(select(NoticeThread).where(NoticeThread.channel == settings.notify_channel,
                                                        NoticeThread.flapping_since.is_not(None))).all()
        for thread in flapping:
            sid = int(thread.subject.split(":")[1])
            last = s.scalar(select(func.max(StateHistory.at)).where(StateHistory.session_id == sid))
            if last is not None and _aware(last) > cutoff:
                continue
            # conditional: with two processes, one of them says it
            claimed = s.execute(update(NoticeThread).where(
                NoticeThread.subject == thread.subject, NoticeThread.channel == thread.channel,
                NoticeThread.flapping_since.is_not(None)).values(flapping_since=None)).rowcount == 1
            if not claimed:
                continue
            row = s.get(Session, sid)
            add_notice(s, "stable", thread.channel, thread.subject, broadcast=False, payload={
                "session_id": sid, "peer": row.peer.name if row else None, "ip": row.peer_ip if row else None,
                "state": row.bgp_state if row else None, "minutes": settings.flap_minutes})
            done += 1
    return done


def _broadcast(c: ChangeFact, now: datetime, settings: Settings) -> bool:
    if c.new == UP:
        return c.old != UP  # recovery
    if c.old == UP:
        up_for = now - _aware(c.since) if c.since else None
        return up_for is not None and up_for >= timedelta(minutes=settings.notify_broadcast_up_minutes)
    return False


def _thread(s: DbSession, channel: str, subject: str) -> NoticeThread:
    thread = s.get(NoticeThread, (subject, channel))
    if thread is None:
        thread = NoticeThread(subject=subject, channel=channel)
        s.add(thread)
    return thread


def add_notice(s: DbSession, kind: str, channel: str, subject: str, *, broadcast: bool, payload: dict[str, Any]) -> Notice:
    notice = Notice(kind=kind, channel=channel, subject=subject, broadcast=broadcast, payload=payload,
                    state="pending", attempts=0)
    s.add(notice)
    return notice


# -- the outbox (bot/notices/sender.py) ------------------------------------------------------------------
@dataclass(frozen=True)
class OutgoingNotice:
    id: int
    kind: str
    channel: str
    subject: str
    payload: dict[str, Any] = field(default_factory=dict)
    broadcast: bool = False
    thread_ts: str | None = None  # None: this notice opens the subject's thread


class Outbox:
    """Claim, send, mark: a notice is claimed with a conditional UPDATE (pending -> sending) so
    one process sends it, and marked sent with the ts Slack gave it."""

    def __init__(self, db: Database, me: str, stale_after: timedelta = timedelta(minutes=10)):
        self.db = db
        self.me = me
        self.stale_after = stale_after  # a claim older than this was left by a process that died

    def pending(self, limit: int = 500) -> list[tuple[int, str, str]]:
        """(id, subject, channel) of the notices to send, oldest first."""
        stale = datetime.now(timezone.utc) - self.stale_after
        with self.db.session() as s:
            return [tuple(r) for r in s.execute(select(Notice.id, Notice.subject, Notice.channel).where(or_(
                Notice.state == "pending", (Notice.state == "sending") & (Notice.claimed_at < stale)))
                .order_by(Notice.id).limit(limit))]

    def claim(self, notice_id: int) -> OutgoingNotice | None:
        now = datetime.now(timezone.utc)
        with self.db.session() as s:
            got = s.execute(update(Notice).where(Notice.id == notice_id, or_(
                Notice.state == "pending", (Notice.state == "sending") & (Notice.claimed_at < now - self.stale_after)))
                .values(state="sending", claimed_by=self.me, claimed_at=now,
                        attempts=Notice.attempts + 1)).rowcount == 1
            if not got:
                return None
            n = s.get(Notice, notice_id)
            thread = s.get(NoticeThread, (n.subject, n.channel))
            return OutgoingNotice(n.id, n.kind, n.channel, n.subject, dict(n.payload or {}), n.broadcast,
                                  thread.thread_ts if thread else None)

    def sent(self, notice: OutgoingNotice, ts: str | None) -> None:
        with self.db.session() as s:
            s.execute(update(Notice).where(Notice.id == notice.id, Notice.claimed_by == self.me)
                      .values(state="sent", ts=ts, sent_at=datetime.now(timezone.utc)))
            if notice.thread_ts is None and ts:
                thread = s.get(NoticeThread, (notice.subject, notice.channel))
                if thread is None:
                    s.add(NoticeThread(subject=notice.subject, channel=notice.channel, thread_ts=ts))
                elif thread.thread_ts is None:
                    thread.thread_ts = ts

    def release(self, notice: OutgoingNotice) -> None:
        """Not sent (Slack failed): back to pending, tried again on the next round; after
        MAX_ATTEMPTS it is given up ("failed", and logged by the sender)."""
        with self.db.session() as s:
            s.execute(update(Notice).where(Notice.id == notice.id, Notice.claimed_by == self.me,
                                           Notice.state == "sending")
                      .values(state=case((Notice.attempts >= MAX_ATTEMPTS, "failed"), else_="pending"),
                              claimed_at=None))


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
