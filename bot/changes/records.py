"""What a change request is, below the service that moves it (bot/changes/requests.py): the
label of each action, the views of a stored request, its states in words, and the writing of a
new request with its `change.requested` audit event.

Edit requests (bot/changes/editing.py) are stored through here too, so editing never imports
requests.py, which imports editing (its fingerprint) and edit_runner (its executor).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.base.errors import Conflict, PeerbotError
from bot.core import Core, audit
from storage.models import (
    OPEN_CHANGE_STATES, ChangeAction, ChangeRequest, ChangeRequestItem, ChangeState, DriftItem, Session, utcnow,
)

# action -> what the approver reads
ACTIONS = {
    "configure": "Configure",
    "config_push": "Config Manager push",
    "admin_up": "Admin Up",
    "admin_down": "Admin Down",
    "delete": "Delete",
    "edit": "Edit",  # bot/changes/editing.py: new values of a configured session (or a move)
}
if set(ACTIONS) != set(ChangeAction):  # the vocabulary is storage.models.ChangeAction: a label for each
    raise RuntimeError("bot.changes.records.ACTIONS must label exactly the ChangeAction values")


@dataclass(frozen=True)
class Origin:
    """The Slack message a request came from, so whoever runs it can update that message."""

    channel: str | None = None
    ts: str | None = None
    response_url: str | None = None


@dataclass(frozen=True)
class ItemView:
    session_id: int
    router_id: int
    label: str
    commands: list[str]  # masked
    ok: bool | None
    result: str | None


@dataclass(frozen=True)
class RequestView:
    id: int
    action: str
    state: ChangeState
    summary: str
    items: list[ItemView]
    router_ids: list[int]
    needs_approval: bool
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    origin: Origin
    approval_channel: str | None
    approval_ts: str | None
    reported_state: str | None

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CHANGE_STATES

    @property
    def session_ids(self) -> list[int]:
        return [i.session_id for i in self.items]

    @classmethod
    def of(cls, r: ChangeRequest) -> RequestView:
        return cls(
            id=r.id, action=r.action, state=ChangeState(r.state), summary=r.summary,
            items=[ItemView(i.session_id, i.router_id, i.label, list(i.commands or []), i.ok, i.result)
                   for i in r.items],
            router_ids=list(r.router_ids or []), needs_approval=r.needs_approval, requested_by=r.requested_by,
            requested_at=aware(r.requested_at), expires_at=aware(r.expires_at), decided_by=r.decided_by,
            decided_at=aware(r.decided_at), reason=r.reason, started_at=aware(r.started_at),
            finished_at=aware(r.finished_at), outcome=r.outcome,
            origin=Origin(r.origin_channel, r.origin_ts, r.origin_response_url),
            approval_channel=r.approval_channel, approval_ts=r.approval_ts, reported_state=r.reported_state,
        )


def aware(when: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns
    return when.replace(tzinfo=timezone.utc) if when is not None and when.tzinfo is None else when


def state_words(state: ChangeState) -> str:
    return {
        ChangeState.REQUESTED: "waiting for approval", ChangeState.APPROVED: "approved and about to run",
        ChangeState.RUNNING: "running", ChangeState.DONE: "done", ChangeState.FAILED: "failed",
        ChangeState.REJECTED: "rejected", ChangeState.EXPIRED: "expired", ChangeState.CANCELLED: "cancelled",
    }[state]


def by_key(core: Core, key: str) -> RequestView | None:
    """The request stored under the idempotency `key`, if any."""
    with core.db.session() as s:
        row = s.scalar(select(ChangeRequest).where(ChangeRequest.idempotency_key == key))
        return RequestView.of(row) if row is not None else None


def lock_sessions(s, ids: Sequence[int]) -> None:  # noqa: ANN001
    """Hold the sessions' rows until the transaction ends (PostgreSQL; SQLite has one writer at a
    time), in id order: two requests for one session asked at the same moment are then stored one
    after the other, and the second finds the first open. Without it, 50 Admin Down clicks at once
    stored two requests for one session (bench/limits.py), which two approvals would run twice."""
    s.execute(select(Session.id).where(Session.id.in_(list(ids))).order_by(Session.id).with_for_update())


def refuse_if_open(s, ids: Sequence[int]) -> None:  # noqa: ANN001
    """Conflict when one of the sessions already has an open request."""
    busy = s.execute(
        select(ChangeRequestItem.session_id, ChangeRequest.id, ChangeRequest.action, ChangeRequest.state)
        .join(ChangeRequest, ChangeRequest.id == ChangeRequestItem.request_id)
        .where(ChangeRequestItem.session_id.in_(ids), ChangeRequest.state.in_(OPEN_CHANGE_STATES))
        .order_by(ChangeRequest.id)).first()
    if busy is not None:
        sid, rid, action, state = busy
        raise Conflict(f"Session #{sid} already has request #{rid} ({ACTIONS.get(action, action)}) "
                       f"{state_words(ChangeState(state))}: wait for it, or cancel it first.")


def open_request_or_retry(core: Core, s, ids: Sequence[int], key: str | None) -> RequestView | None:  # noqa: ANN001
    """None when none of the sessions has an open request. When one has, and it is the request
    stored under `key`, that request: a Slack retry of the click that stored it, which passed the
    key lookup before the first delivery committed (bench/limits.py: 11 of 20 retries sent at
    once were told "Session #… already has request #…", their own). Else Conflict."""
    try:
        refuse_if_open(s, ids)
    except Conflict:
        existing = by_key(core, key) if key else None
        if existing is None:
            raise
        return existing
    return None


def store(core: Core, s, *, actor: str, action: str, summary: str, router_ids: list[int],  # noqa: ANN001
          fingerprint: str, needs_approval: bool, items: list[ChangeRequestItem], key: str | None,
          origin: Origin, edited_encrypted: str | None, note: str, after: dict,
          duplicate: PeerbotError | None = None) -> RequestView:
    """Write a new request in `s` with its items and its `change.requested` audit event. The
    caller has checked the role and that no request is open, and planned the items. A
    request stored meanwhile under the same idempotency `key` is returned instead; with no
    such request the clash is `duplicate` (or the IntegrityError itself)."""
    now = utcnow()
    req = ChangeRequest(
        action=action, state=ChangeState.REQUESTED if needs_approval else ChangeState.APPROVED,
        summary=summary, router_ids=router_ids, fingerprint=fingerprint, needs_approval=needs_approval,
        requested_by=actor, requested_at=now, expires_at=now + timedelta(seconds=core.settings.approval_ttl),
        decided_by=None if needs_approval else "policy", decided_at=None if needs_approval else now,
        idempotency_key=key, origin_channel=slack_id(origin.channel), origin_ts=slack_id(origin.ts),
        origin_response_url=origin.response_url if _is_slack_hook(origin.response_url) else None,
        edited_encrypted=edited_encrypted,
    )
    req.items = items
    s.add(req)
    try:
        s.flush()
    except IntegrityError:
        s.rollback()
        existing = by_key(core, key) if key else None
        if existing is None:
            if duplicate is not None:
                raise duplicate from None
            raise
        return existing
    audit_request(s, req, actor, "change.requested", f"{req.summary}; {note}", after=after)
    return RequestView.of(req)


def audit_request(s, req: ChangeRequest, actor: str, action: str, detail: str, outcome: str = "ok",  # noqa: ANN001
                  after: dict | None = None) -> None:
    """An audit event about the request `req`."""
    audit.record(s, actor=actor, action=action, object_type="change_request", object_id=req.id,
                 outcome=outcome, detail=detail[:2000], after=after)


def slack_id(value: str | None) -> str | None:
    """Slack channel ids and message timestamps only (they are stored and sent back to Slack)."""
    return value if value and re.fullmatch(r"[A-Za-z0-9.]{1,32}", value) else None


def _is_slack_hook(url: str | None) -> bool:
    return bool(url) and len(url) <= 512 and url.startswith(("https://hooks.slack.com/", "http://127.0.0.1:"))


def refuse_if_unsafe_to_render(s, session_ids: Sequence[int], *, drift_fix: bool = False) -> None:  # noqa: ANN001
    """Conflict when rendering a session's whole neighbor would lose what its router holds:
    a TCP-MD5 key set on the router that peerbot could not read (the push would leave it out),
    or an open drift item (the router was changed by hand since: Adopt or Fix it first)."""
    for sid, ip, md5_unknown in s.execute(select(Session.id, Session.peer_ip, Session.md5_unknown)
                                          .where(Session.id.in_(list(session_ids))).order_by(Session.id)):
        if md5_unknown:
            raise Conflict(f"Session #{sid} ({ip}) has a TCP-MD5 key on its router that peerbot cannot read: "
                           "give the key with Edit first, so a push does not drop it.")
    if not drift_fix:
        refuse_if_drifted(s, session_ids)


def refuse_if_drifted(s, session_ids: Sequence[int]) -> None:  # noqa: ANN001
    """Conflict when one of the sessions has an open drift item (bot/adoption/drift.py)."""
    drift = s.execute(select(DriftItem.session_id, DriftItem.peer_ip, DriftItem.differences)
                      .where(DriftItem.session_id.in_(list(session_ids)), DriftItem.status == "open")
                      .order_by(DriftItem.session_id)).first()
    if drift is not None:
        sid, ip, diff = drift
        first = f" ({diff[0]})" if diff else ""
        raise Conflict(f"Session #{sid} ({ip}) differs from its router since the last read{first}: Adopt or Fix "
                       "it in the drift report (`/peering drift`) first.")
