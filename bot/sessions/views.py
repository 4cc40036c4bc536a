"""Plain read models that services hand to surfaces (Slack, CLI): no ORM objects leak out."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import aliased, object_session

from bot.routers.parsers.common import PREFIX_LIMIT_EXCEEDED
from storage.models import OPEN_CHANGE_STATES, ChangeRequest, ChangeRequestItem, ChangeState, EmailLog, EmailSend, Session

ESTABLISHED = "Established"
UNKNOWN_STATE = "Unknown — check the router"


@dataclass(frozen=True)
class LastEmail:
    """The last email sent to the peer about a session (bot/email/service.py)."""

    actor: str
    sent_at: datetime
    recipients: tuple[str, ...]
    template: str  # e.g. "peering_request"

    @classmethod
    def of_session(cls, s: Session) -> LastEmail | None:
        orm = object_session(s)
        if orm is None or s.id is None:
            return None
        with orm.no_autoflush:
            row = orm.scalar(select(EmailLog).where(EmailLog.session_id == s.id)
                             .order_by(EmailLog.sent_at.desc(), EmailLog.id.desc()).limit(1))
        return cls(row.actor, row.sent_at, tuple(row.recipients or ()), row.template) if row else None

    @classmethod
    def of_sessions(cls, conn, ids: Collection[int]) -> dict[int, LastEmail]:  # noqa: ANN001
        """The last email of each of `ids`, in one query (a list page: not one query a row).
        `conn`: a Connection or an ORM session."""
        found: dict[int, LastEmail] = {}
        if ids:
            rows = conn.execute(_LAST_EMAILS, {"ids": list(ids)})
            for sid, actor, sent_at, recipients, template in rows:
                if sid not in found:
                    found[sid] = cls(actor, sent_at, tuple(recipients or ()), template)
        return found


# A Send still "sending" after this long was cut off (the process stopped): its outcome is unknown.
EMAIL_SENDING_STALE = timedelta(minutes=5)


def stale_before(now: datetime | None = None) -> datetime:
    """Claims of a Send older than this and still "sending" are in doubt."""
    return (now or datetime.now(timezone.utc)) - EMAIL_SENDING_STALE


@dataclass(frozen=True)
class EmailInDoubt:
    """A Send to the peer whose SMTP outcome is unknown (bot/email/service.py), not yet sent again:
    the session detail shows it with a Send again button."""

    send_id: int
    actor: str
    claimed_at: datetime
    recipients: tuple[str, ...]
    template: str
    subject: str

    @classmethod
    def of_session(cls, s: Session) -> EmailInDoubt | None:
        orm = object_session(s)
        if orm is None or s.id is None:
            return None
        again = aliased(EmailSend)
        with orm.no_autoflush:
            row = orm.scalar(
                select(EmailSend).where(
                    EmailSend.session_id == s.id,
                    or_(EmailSend.state == "unknown",
                        (EmailSend.state == "sending") & (EmailSend.claimed_at < stale_before())),
                    ~select(again.id).where(again.again_of == EmailSend.id).exists())
                .order_by(EmailSend.claimed_at.desc(), EmailSend.id.desc()).limit(1))
        if row is None:
            return None
        return cls(row.id, row.actor, row.claimed_at, tuple(row.recipients or ()), row.template, row.subject)


_LAST_EMAILS = (select(EmailLog.session_id, EmailLog.actor, EmailLog.sent_at, EmailLog.recipients, EmailLog.template)
                .where(EmailLog.session_id.in_(bindparam("ids", expanding=True)))
                .order_by(EmailLog.session_id, EmailLog.sent_at.desc(), EmailLog.id.desc()))


@dataclass(frozen=True)
class PendingChange:
    """The session's open change request (requested, approved or running), if any."""

    request_id: int
    action: str
    state: str
    requested_by: str

    @classmethod
    def of_session(cls, s: Session) -> PendingChange | None:
        orm = object_session(s)
        if orm is None or s.id is None:
            return None
        with orm.no_autoflush:
            row = orm.execute(
                select(ChangeRequest.id, ChangeRequest.action, ChangeRequest.state, ChangeRequest.requested_by)
                .join(ChangeRequestItem, ChangeRequestItem.request_id == ChangeRequest.id)
                .where(ChangeRequestItem.session_id == s.id, ChangeRequest.state.in_(OPEN_CHANGE_STATES))
                .order_by(ChangeRequest.id.desc()).limit(1)).first()
        return cls(row[0], row[1], ChangeState(row[2]).value, row[3]) if row else None

    @classmethod
    def of_sessions(cls, conn, ids: Collection[int]) -> dict[int, PendingChange]:  # noqa: ANN001
        """The open request of each of `ids` (the newest), in one query."""
        found: dict[int, PendingChange] = {}
        if ids:
            for sid, rid, action, state, by in conn.execute(_OPEN_REQUESTS, {"ids": list(ids)}):
                found.setdefault(sid, cls(rid, action, ChangeState(state).value, by))
        return found


_OPEN_REQUESTS = (select(ChangeRequestItem.session_id, ChangeRequest.id, ChangeRequest.action, ChangeRequest.state,
                         ChangeRequest.requested_by)
                  .join(ChangeRequestItem, ChangeRequestItem.request_id == ChangeRequest.id)
                  .where(ChangeRequestItem.session_id.in_(bindparam("ids", expanding=True)),
                         ChangeRequest.state.in_(OPEN_CHANGE_STATES))
                  .order_by(ChangeRequest.id.desc()))


@dataclass(frozen=True)
class SessionView:
    id: int
    session_type: str
    exchange_id: int
    exchange_name: str
    exchange_is_none: bool
    router_id: int
    router_name: str
    router_platform: str
    router_url: str | None
    peer_group: str | None
    local_asn: int
    peer_id: int
    peer_name: str
    peer_asn: int
    peeringdb_net_id: int | None
    peer_ip: str
    address_family: int
    has_md5: bool
    as_set: str | None
    notes: str | None
    admin_status: str
    configured: bool
    bgp_state: str | None
    prefixes_received: int | None
    prefixes_accepted: int | None
    prefixes_advertised: int | None
    last_state_change: datetime | None
    last_polled: datetime | None
    last_error: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    last_email: LastEmail | None = None
    pending_change: PendingChange | None = None
    needs_check: bool = False
    max_prefixes: int | None = None  # the limit of the session's own family (issue 10)
    email_in_doubt: EmailInDoubt | None = None  # on the detail only (not on list pages)

    @property
    def is_up(self) -> bool:
        return self.bgp_state == ESTABLISHED

    @property
    def display_state(self) -> str:
        """What an engineer wants to read: admin state first, then the BGP FSM state."""
        if self.needs_check:
            return UNKNOWN_STATE
        if not self.configured:
            return "Not configured"
        if self.admin_status == "down":
            return "Admin down"
        if self.bgp_state != ESTABLISHED and (self.last_error or "").startswith(PREFIX_LIMIT_EXCEEDED):
            # torn down by the max-prefix limit: not a plain Idle, it stays down until it restarts
            return f"{self.bgp_state or 'Idle'} \u2014 {self.last_error}"
        return self.bgp_state or "Unknown"

    @classmethod
    def of(cls, s: Session, *, related: tuple[dict[int, LastEmail], dict[int, PendingChange]] | None = None) -> SessionView:
        """`related`: the last emails and open requests of a whole page, loaded at once
        (LastEmail/PendingChange.of_sessions); without it they are looked up for this row."""
        in_doubt = None
        if related is None:
            last_email, pending = LastEmail.of_session(s), PendingChange.of_session(s)
            in_doubt = EmailInDoubt.of_session(s)
        else:
            last_email, pending = related[0].get(s.id), related[1].get(s.id)
        return cls(
            id=s.id, session_type=s.session_type.value, exchange_id=s.exchange_id, exchange_name=s.exchange.name,
            exchange_is_none=s.exchange.is_none, router_id=s.router_id, router_name=s.router.name,
            router_platform=s.router.platform, router_url=s.router.url,
            peer_group=s.peer_group.name if s.peer_group else None, local_asn=s.local_asn, peer_id=s.peer_id,
            peer_name=s.peer.name, peer_asn=s.peer.asn, peeringdb_net_id=s.peer.peeringdb_net_id,
            peer_ip=s.peer_ip, address_family=s.address_family, has_md5=s.md5_encrypted is not None,
            as_set=s.as_set, notes=s.notes, admin_status=s.admin_status.value, configured=s.configured,
            bgp_state=s.bgp_state, prefixes_received=s.prefixes_received, prefixes_accepted=s.prefixes_accepted,
            prefixes_advertised=s.prefixes_advertised, last_state_change=s.last_state_change,
            last_polled=s.last_polled, last_error=s.last_error, created_by=s.created_by,
            created_at=s.created_at, updated_at=s.updated_at, last_email=last_email,
            pending_change=pending, needs_check=bool(s.needs_check),
            max_prefixes=s.max_prefixes_v4 if s.address_family == 4 else s.max_prefixes_v6,
            email_in_doubt=in_doubt,
        )


@dataclass(frozen=True)
class ListKey:
    """Where a session stands in the list order (router name, then peer IP); the list's
    Previous/Next buttons carry the key of the page's first/last row."""

    router: str
    peer_ip: str

    @classmethod
    def of(cls, v: SessionView) -> ListKey:
        return cls(v.router_name, v.peer_ip)


@dataclass(frozen=True)
class SessionPage:
    items: list[SessionView]
    # 1-based; negative when counted from the end (-1: the last page) and the total is capped,
    # so that its number from the start is not known
    page: int
    pages: int
    total: int
    query_text: str
    total_capped: bool = False  # there are more than `total` (the count stops there)
    has_prev: bool | None = None  # None: from page/pages
    has_next: bool | None = None

    @property
    def prev(self) -> bool:
        return self.page > 1 if self.has_prev is None else self.has_prev

    @property
    def next(self) -> bool:
        return self.page < self.pages if self.has_next is None else self.has_next
