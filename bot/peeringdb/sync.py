"""Keep the local PeeringDB mirror current: a full load the first time, `?since=` after.

Each object type is fetched first (no transaction open while waiting on the network), then
applied in one transaction of its own: a failure half-way leaves every table either as it was
or fully updated, so the mirror stays usable.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session as OrmSession

from bot.peeringdb.client import PeeringDBClient, PeeringDBError
from bot.peeringdb.mirror import MODELS, OBJECT_TYPES, insert_tokens, row_for
from storage.db import Database
from storage.models import PdbNetToken, PdbSyncState

log = logging.getLogger(__name__)
CHUNK = 500  # ids per IN (...) and rows per executemany batch

# progress(object_type, done_types, total_types): called before each type and once at the end
# with object_type = "" (done).
Progress = Callable[[str, int, int], None]


@dataclass
class TypeResult:
    object_type: str
    full: bool
    upserted: int = 0
    deleted: int = 0


@dataclass
class SyncReport:
    results: list[TypeResult] = field(default_factory=list)
    error: str | None = None  # the one-line PeeringDBError; the types before it were applied
    exchanges_updated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        parts = [f"{r.object_type} {'loaded' if r.full else 'updated'} {r.upserted}"
                 + (f", deleted {r.deleted}" if r.deleted else "") for r in self.results]
        text = "; ".join(parts) or "nothing synced"
        return text + (f". Failed: {self.error}" if self.error else "")


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _since_of(records: Iterable[dict[str, Any]], fallback: int) -> int:
    """The next ?since=: the newest `updated` PeeringDB gave us (its own clock, so ours may
    drift), or the fallback when nothing came back."""
    newest: int | None = None
    for r in records:
        u = r.get("updated")
        if u:
            try:
                stamp = int(datetime.fromisoformat(str(u).replace("Z", "+00:00")).timestamp())
            except ValueError:
                continue
            newest = stamp if newest is None else max(newest, stamp)
    return fallback if newest is None else newest


def sync(db: Database, client: PeeringDBClient, *, full: bool = False, types: Iterable[str] = OBJECT_TYPES,
         progress: Progress | None = None, wall_clock: Callable[[], float] = time.time) -> SyncReport:
    """Sync the mirror. Never raises PeeringDBError: the report carries the error, and the types
    applied before it stay applied (with their ?since=), so the next run picks up from there."""
    from bot.peeringdb.exchanges import refresh_exchanges

    report = SyncReport()
    todo = [t for t in OBJECT_TYPES if t in set(types)]
    for i, object_type in enumerate(todo):
        if progress:
            progress(object_type, i, len(todo))
        with db.session() as s:
            state = s.get(PdbSyncState, object_type)
            since = None if (full or state is None) else state.since
        started = int(wall_clock())
        try:
            records = client.list(object_type, since=since)
        except PeeringDBError as exc:
            report.error = str(exc)
            log.warning("PeeringDB sync stopped at %s: %s", object_type, exc)
            break
        with db.session() as s:
            result = _apply(s, object_type, records, full=since is None)
            next_since = _since_of(records, since if since is not None else started)
            if since is not None:
                next_since = max(next_since, since)
            if state := s.get(PdbSyncState, object_type):
                state.since, state.synced_at = next_since, datetime.now(timezone.utc)
                state.row_count = _count(s, object_type)
            else:
                s.add(PdbSyncState(object_type=object_type, since=next_since, synced_at=datetime.now(timezone.utc),
                                   row_count=_count(s, object_type)))
        report.results.append(result)
    if progress:
        progress("", len(todo), len(todo))
    if any(r.object_type in ("ix", "ixlan", "ixpfx") for r in report.results):
        report.exchanges_updated = refresh_exchanges(db)
    log.info("PeeringDB sync: %s", report.summary())
    return report


def _count(s: OrmSession, object_type: str) -> int:
    from sqlalchemy import func

    return s.scalar(select(func.count()).select_from(MODELS[object_type])) or 0


def _apply(s: OrmSession, object_type: str, records: list[dict[str, Any]], *, full: bool) -> TypeResult:
    model = MODELS[object_type]
    result = TypeResult(object_type, full)
    live = [row_for(object_type, r) for r in records if r.get("status") != "deleted" and r.get("id") is not None]
    gone = [int(r["id"]) for r in records if r.get("status") == "deleted" and r.get("id") is not None]
    if full:
        s.execute(delete(model))
        if object_type == "net":
            s.execute(delete(PdbNetToken))
        for batch in _chunks(live):
            s.execute(insert(model), batch)
        result.upserted = len(live)
    else:
        ids = [r["id"] for r in live]
        existing: set[int] = set()
        for batch in _chunks(ids):
            existing.update(s.scalars(select(model.id).where(model.id.in_(batch))))
        new = [r for r in live if r["id"] not in existing]
        changed = [r for r in live if r["id"] in existing]
        for batch in _chunks(new):
            s.execute(insert(model), batch)
        for batch in _chunks(changed):
            s.execute(update(model), batch)  # bulk UPDATE by primary key
        for batch in _chunks(gone):
            result.deleted += s.execute(delete(model).where(model.id.in_(batch))).rowcount or 0
        result.upserted = len(live)
        if object_type == "net":
            for batch in _chunks([r["id"] for r in changed] + gone):
                s.execute(delete(PdbNetToken).where(PdbNetToken.net_id.in_(batch)))
    if object_type == "net":
        insert_tokens(s, live)
    s.flush()
    return result


def last_synced(db: Database) -> dict[str, datetime]:
    with db.session() as s:
        return {st.object_type: st.synced_at for st in s.scalars(select(PdbSyncState))}
