"""Audit trail: who did what to which object, with the outcome."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session as OrmSession

from storage.models import AuditEvent


def record(
    s: OrmSession,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | None,
    outcome: str = "ok",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor, action=action, object_type=object_type, object_id=object_id,
        outcome=outcome, before=before, after=after, detail=detail,
    )
    s.add(event)
    return event
