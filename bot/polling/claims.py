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

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from sqlalchemy.orm import Session as OrmSession

from storage.models import RouterPoll

# plain UPDATEs: no RouterPoll objects are loaded in the sessions that claim, nothing to keep in
# step (SQLAlchemy's default evaluates the WHERE against the session's objects: measurable per poll)
_PLAIN = {"synchronize_session": False}
_CHUNK = 5000  # routers a statement

# Who this process is, in claimed_by: host and pid for people, a nonce for two processes that
# share a pid (containers).
PROCESS_ID = ""


def _new_process_id() -> None:
    global PROCESS_ID  # noqa: PLW0603 - once at import, and again in a forked child
    PROCESS_ID = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


_new_process_id()
# A forked child (a worker of `serve --processes N`) is another process: a claim of the parent's
# must not be taken for its own.
os.register_at_fork(after_in_child=_new_process_id)


def claim(s: OrmSession, router_id: int, *, lease: float, spacing: float | None = None,
          owner: str | None = None) -> bool:
    """Claim `router_id` (in the transaction `s`) for a poll lasting at most `lease` seconds.
    `spacing`: a scheduled poll, which happens only when the router is due, and makes it due
    again `spacing` s from now; None: a poll someone asked for (Refresh), which only needs the
    router not being polled."""
    conditions, values = _claim_terms(lease, spacing, owner)
    if s.execute(update(RouterPoll).where(RouterPoll.router_id == router_id, *conditions).values(**values)
                 .execution_options(**_PLAIN)).rowcount == 1:
        return True
    if s.get(RouterPoll, router_id) is not None:
        return False  # claimed by another, or not due
    return _first_claim(s, router_id, values)


def claim_many(s: OrmSession, router_ids: list[int], *, lease: float, spacing: float | None = None,
               owner: str | None = None) -> set[int]:
    """claim() for a whole refresh in one statement; the routers claimed. A router that waits
    in the refresh's queue longer than half the lease is renewed before its poll (renew())."""
    if len(router_ids) > _CHUNK:  # (bounded statements: SQLite allows 32,766 parameters)
        return set().union(*(claim_many(s, router_ids[i:i + _CHUNK], lease=lease, spacing=spacing, owner=owner)
                             for i in range(0, len(router_ids), _CHUNK)))
    if not router_ids:
        return set()
    conditions, values = _claim_terms(lease, spacing, owner)
    claimed = set(s.scalars(update(RouterPoll).where(RouterPoll.router_id.in_(router_ids), *conditions)
                            .values(**values).returning(RouterPoll.router_id).execution_options(**_PLAIN)))
    known = set(s.scalars(select(RouterPoll.router_id).where(RouterPoll.router_id.in_(router_ids))))
    for router_id in router_ids:
        if router_id not in known and _first_claim(s, router_id, values):
            claimed.add(router_id)
    return claimed


def _claim_terms(lease: float, spacing: float | None, owner: str | None) -> tuple[list, dict]:
    """What a claim requires of a router's row (free; due, if scheduled) and what it writes."""
    owner = owner or PROCESS_ID
    now = datetime.now(timezone.utc)
    conditions = [or_(RouterPoll.claimed_until.is_(None), RouterPoll.claimed_until < now)]
    values: dict = {"claimed_by": owner, "claimed_until": now + timedelta(seconds=lease)}
    if spacing is not None:
        conditions.append(or_(RouterPoll.next_poll_at.is_(None), RouterPoll.next_poll_at <= now))
        values["next_poll_at"] = now + timedelta(seconds=spacing)
    return conditions, values


def _first_claim(s: OrmSession, router_id: int, values: dict) -> bool:
    """The router's first poll: its row is made, claimed; False if another process made it first."""
    try:
        with s.begin_nested():
            s.add(RouterPoll(router_id=router_id, **values))
    except IntegrityError:  # theirs
        return False
    return True


def renew(s: OrmSession, router_id: int, *, lease: float, owner: str | None = None) -> bool:
    """Extend this process's claim for `lease` s from now (also when it lapsed and nobody took
    the router meanwhile); False: another process holds it now."""
    owner = owner or PROCESS_ID
    now = datetime.now(timezone.utc)
    return s.execute(update(RouterPoll).where(
        RouterPoll.router_id == router_id,
        or_(RouterPoll.claimed_by == owner, RouterPoll.claimed_until.is_(None), RouterPoll.claimed_until < now))
        .values(claimed_by=owner, claimed_until=now + timedelta(seconds=lease)).execution_options(**_PLAIN)).rowcount == 1


def release(s: OrmSession, router_id: int, owner: str | None = None) -> None:
    """Give the claim up (in the transaction `s`, e.g. the one storing the poll's result)."""
    release_many(s, [router_id], owner)


def release_many(s: OrmSession, router_ids: list[int], owner: str | None = None) -> None:
    """release() for several routers in one statement."""
    owner = owner or PROCESS_ID
    if router_ids:
        s.execute(update(RouterPoll).where(RouterPoll.router_id.in_(router_ids), RouterPoll.claimed_by == owner)
                  .values(claimed_until=None).execution_options(**_PLAIN))
