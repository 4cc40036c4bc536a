"""Poll claims in the database (table router_poll): with several bot processes on one database,
a router is polled by one of them at a time, and a scheduled poll happens once per interval.

A claim is a conditional UPDATE (like change_requests' claim of a request): it succeeds only
when no live claim is held (claimed_until in the past or NULL) and, for a scheduled poll, the
router is due (next_poll_at). The lease lapses by itself if the claiming process dies.
"""
from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import RouterPoll

# Who this process is, in claimed_by: host and pid for people, a nonce for two processes that
# share a pid (containers).
PROCESS_ID = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(db: Database, router_id: int, *, lease: float, spacing: float | None = None,
          owner: str = PROCESS_ID) -> bool:
    """Claim `router_id` for a poll lasting at most `lease` seconds. `spacing`: a scheduled poll,
    which happens only when the router is due, and makes it due again `spacing` s from now;
    None: a poll someone asked for (Refresh), which only needs the router not being polled."""
    now = datetime.now(timezone.utc)
    _ensure_row(db, router_id)
    conditions = [RouterPoll.router_id == router_id,
                  or_(RouterPoll.claimed_until.is_(None), RouterPoll.claimed_until < now)]
    values: dict = {"claimed_by": owner, "claimed_until": now + timedelta(seconds=lease)}
    if spacing is not None:
        conditions.append(or_(RouterPoll.next_poll_at.is_(None), RouterPoll.next_poll_at <= now))
        values["next_poll_at"] = now + timedelta(seconds=spacing)
    with db.session() as s:
        return s.execute(update(RouterPoll).where(*conditions).values(**values)).rowcount == 1


def release(db: Database, router_id: int, owner: str = PROCESS_ID) -> None:
    with db.session() as s:
        s.execute(update(RouterPoll).where(RouterPoll.router_id == router_id, RouterPoll.claimed_by == owner)
                  .values(claimed_until=None))


def _ensure_row(db: Database, router_id: int) -> None:
    with db.session() as s:
        if s.get(RouterPoll, router_id) is not None:
            return
    try:
        with db.session() as s:
            s.add(RouterPoll(router_id=router_id))
    except IntegrityError:  # another process created it first (or the router is gone: the UPDATE finds nothing)
        pass
