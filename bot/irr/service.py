"""AS-SET imports: expand with bgpq4, refuse what must not become a filter, store the lists in
AsSet, and turn a changed list into change requests for the configured sessions that use it.

One code path for every surface: the wizard's Import button, `peerbot irr import` and the
scheduled re-import (bot/irr/refresh.py) all call `IrrImports.import_set`. It runs bgpq4 on the
calling thread, so callers run it on the worker pool (bot/core/workers.py), never on a Bolt listener.

Refused, and nothing stored or changed (an earlier import of the set stays as it was):
- a set that gives no prefix at all (unknown, empty, members without route objects): an empty
  list would be a deny-all filter;
- a family over PEERBOT_IRR_MAX_PREFIXES: a huge filter is more likely a wrong set than a peer;
- bgpq4 missing, failing or timing out.
A scheduled re-import (`max_change_percent` given) whose change exceeds that share of a
family's stored list is flagged and not applied; a person accepts it with a manual import.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.access import Role
from bot.core import Core
from bot.base.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.irr.bgpq4 import Bgpq4, IrrError
from bot.core import audit
from bot.base.validation import AsSetName, FieldError, parse_as_set_name
from storage.models import AsSet, Session, utcnow

log = logging.getLogger(__name__)
ERROR_MAX = 500  # AsSet.last_error


@dataclass(frozen=True)
class AsSetInfo:
    """What peerbot knows about an imported AS-SET (without the lists themselves)."""

    name: str
    source: str | None  # IRR source(s) used; None: the server's default
    pinned_source: str | None  # typed as SOURCE::NAME; re-imports keep it
    irr_host: str | None
    count_v4: int
    count_v6: int
    imported_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None

    @property
    def query(self) -> str:
        return f"{self.pinned_source}::{self.name}" if self.pinned_source else self.name

    @classmethod
    def of(cls, row: AsSet) -> AsSetInfo:
        return cls(name=row.name, source=row.source, pinned_source=row.pinned_source, irr_host=row.irr_host,
                   count_v4=len(row.prefixes_v4 or []), count_v6=len(row.prefixes_v6 or []),
                   imported_at=_aware(row.imported_at), last_attempt_at=_aware(row.last_attempt_at),
                   last_error=row.last_error)


@dataclass(frozen=True)
class FamilyChange:
    family: int
    before: int
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def percent(self) -> float:
        """Entries added + removed, as a share of the stored list (a first entry counts 100 %)."""
        moved = len(self.added) + len(self.removed)
        if self.before == 0:
            return 100.0 if moved else 0.0
        return 100.0 * moved / self.before


@dataclass(frozen=True)
class ImportResult:
    name: str  # as asked for (SOURCE::NAME when pinned)
    ok: bool  # the lists are stored (changed or not)
    error: str | None = None  # why nothing was stored
    info: AsSetInfo | None = None  # the set as stored now (also after an error, when known)
    changes: tuple[FamilyChange, ...] = ()
    first_import: bool = False
    flagged: bool = False  # a scheduled change too large to apply
    request_ids: tuple[int, ...] = ()
    request_errors: tuple[str, ...] = ()
    sessions: tuple[int, ...] = field(default=())  # configured sessions using the set

    @property
    def changed(self) -> bool:
        return self.first_import or any(c.changed for c in self.changes)


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=timezone.utc) if when is not None and when.tzinfo is None else when


def parse_target(text: str | None) -> AsSetName:
    try:
        target = parse_as_set_name(text)
    except FieldError as exc:
        raise InvalidInput({"as_set": str(exc)}) from None
    if target is None:
        raise InvalidInput({"as_set": "Type an AS-SET first, e.g. AS-EXAMPLE."})
    return target


class IrrImports:
    def __init__(self, core: Core, bgpq4: Bgpq4 | None = None):
        self.core = core
        self.bgpq4 = bgpq4 or Bgpq4.from_settings(core.settings)
        self._busy: dict[str, threading.Lock] = {}  # one import of a set at a time in this process
        self._guard = threading.Lock()

    # -------------------------------------------------------------------------------- reading
    def show(self, text: str | None) -> AsSetInfo | None:
        """The set as imported, or None when it is not known locally (InvalidInput for a bad name)."""
        target = parse_target(text)
        with self.core.db.session() as s:
            row = s.scalar(select(AsSet).where(AsSet.name == target.name))
            return AsSetInfo.of(row) if row is not None else None

    def entries(self, text: str | None) -> tuple[list[str], list[str]]:
        target = parse_target(text)
        with self.core.db.session() as s:
            row = s.scalar(select(AsSet).where(AsSet.name == target.name))
            if row is None:
                raise NotFound(f"{target.name} is not known locally: import it first.")
            return list(row.prefixes_v4 or []), list(row.prefixes_v6 or [])

    def in_use(self) -> list[str]:
        """Every AS-SET a session names, imported or not."""
        with self.core.db.session() as s:
            names = s.scalars(select(Session.as_set).where(Session.as_set.is_not(None)).distinct())
            return sorted({n.upper() for n in names if n})

    # -------------------------------------------------------------------------------- importing
    def import_set(self, text: str | None, actor: str, *, max_change_percent: float | None = None) -> ImportResult:
        """Expand the set with bgpq4 and store it (see the module docstring for what is refused).

        Raises InvalidInput (bad name) or PermissionDenied (not an operator); every IRR problem
        is an ImportResult with `ok=False` and the reason."""
        target = parse_target(text)
        self.core.access.require(actor, Role.OPERATOR, "import AS-SETs")
        with self._guard:
            lock = self._busy.setdefault(target.name, threading.Lock())
        with lock:
            return self._import(target, actor, max_change_percent)

    def _import(self, target: AsSetName, actor: str, max_change_percent: float | None) -> ImportResult:
        stored = self.show(target.name)
        if target.source is None and stored is not None and stored.pinned_source:
            target = AsSetName(target.name, stored.pinned_source)  # re-import from where it came from
        try:
            v4, v6 = self._fetch(target)
        except IrrError as exc:
            return self._failed(target, str(exc), stored)
        now = utcnow()
        try:
            with self.core.db.session() as s:
                row = s.scalar(select(AsSet).where(AsSet.name == target.name))
                first = row is None
                changes = (_change(4, [] if first else row.prefixes_v4, v4),
                           _change(6, [] if first else row.prefixes_v6, v6))
                limit = max_change_percent
                too_big = [c for c in changes if c.changed and limit is not None and not first and c.percent > limit]
                if too_big:
                    row.last_attempt_at = now
                    row.last_error = _flag_text(target, too_big, limit)[:ERROR_MAX]
                    s.flush()
                    return ImportResult(target.query, False, row.last_error, AsSetInfo.of(row), changes, flagged=True)
                if first:
                    row = AsSet(name=target.name)
                    s.add(row)
                row.prefixes_v4, row.prefixes_v6 = v4, v6
                row.count_v4, row.count_v6 = len(v4), len(v6)
                row.source = target.source or self.bgpq4.sources or None
                row.pinned_source = target.source
                row.irr_host = self.bgpq4.host
                row.imported_at = row.last_attempt_at = now
                row.last_error = None
                s.flush()
                audit.record(s, actor=actor, action="as_set.import", object_type="as_set", object_id=row.id,
                             detail=f"{target.query} from {self.bgpq4.where(target)}: {len(v4)} IPv4 / {len(v6)} IPv6"
                                    + "".join(f"; IPv{c.family} +{len(c.added)} -{len(c.removed)}" for c in changes),
                             after={"count_v4": len(v4), "count_v6": len(v6)})
                info = AsSetInfo.of(row)
                sessions = list(s.scalars(select(Session.id).where(Session.as_set == target.name,
                                                                    Session.configured.is_(True))
                                          .order_by(Session.id)))
        except IntegrityError:  # imported by another process at the same moment: theirs stands
            return ImportResult(target.query, False, f"{target.query} was imported by someone else at the same "
                                                     "moment: Validate to see it.", self.show(target.name))
        result = ImportResult(target.query, True, None, info, changes, first_import=first, sessions=tuple(sessions))
        if result.changed and sessions:
            ids, errors = self._request_updates(actor, sessions)
            result = replace(result, request_ids=ids, request_errors=errors)
        log.info("AS-SET %s imported: %s IPv4 / %s IPv6%s", target.query, len(v4), len(v6),
                 f", change requests {list(result.request_ids)}" if result.request_ids else "")
        return result

    def _fetch(self, target: AsSetName) -> tuple[list[str], list[str]]:
        v4 = self.bgpq4.entries(target, 4)
        v6 = self.bgpq4.entries(target, 6)
        limit = self.core.settings.irr_max_prefixes
        for family, entries in ((4, v4), (6, v6)):
            if len(entries) > limit:
                raise IrrError(f"{target.query} expands to {len(entries):,} IPv{family} prefixes, more than "
                               f"PEERBOT_IRR_MAX_PREFIXES ({limit:,}): not imported. Check that this is the "
                               "peer's own AS-SET, or raise the limit.")
        if not v4 and not v6:
            raise IrrError(self.bgpq4.describe_empty(target))
        return v4, v6

    def _failed(self, target: AsSetName, message: str, stored: AsSetInfo | None) -> ImportResult:
        """Remember the failure on a set already known (its lists stay); store nothing new."""
        if stored is not None:
            with self.core.db.session() as s:
                row = s.scalar(select(AsSet).where(AsSet.name == target.name))
                if row is not None:
                    row.last_attempt_at = utcnow()
                    row.last_error = message[:ERROR_MAX]
                    s.flush()
                    stored = AsSetInfo.of(row)
        log.info("AS-SET %s not imported: %s", target.query, message)
        return ImportResult(target.query, False, message, stored)

    def _request_updates(self, actor: str, session_ids: Sequence[int]) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """A Configure request for the configured sessions (one request; one per session when
        some of them already have an open request, so the others still get theirs)."""
        from bot.changes.requests import MAX_SESSIONS, ChangeRequests

        requests = ChangeRequests(self.core)
        ids: list[int] = []
        errors: list[str] = []
        for start in range(0, len(session_ids), MAX_SESSIONS):
            chunk = list(session_ids[start:start + MAX_SESSIONS])
            try:
                ids.append(requests.request(actor, "configure", chunk).id)
                continue
            except (Conflict, NotFound, InvalidInput, PermissionDenied, ValueError) as exc:
                if len(chunk) == 1:
                    errors.append(str(exc))
                    continue
            for sid in chunk:
                try:
                    ids.append(requests.request(actor, "configure", [sid]).id)
                except (Conflict, NotFound, InvalidInput, PermissionDenied, ValueError) as exc:
                    errors.append(str(exc))
        return tuple(ids), tuple(errors)


def _change(family: int, before: Sequence[str] | None, after: Sequence[str]) -> FamilyChange:
    old, new = set(before or []), set(after)
    return FamilyChange(family, len(old), tuple(sorted(new - old)), tuple(sorted(old - new)))


def _flag_text(target: AsSetName, changes: Sequence[FamilyChange], limit: float) -> str:
    parts = [f"IPv{c.family} +{len(c.added)} -{len(c.removed)} of {c.before} ({c.percent:.0f} %)" for c in changes]
    return (f"Change not applied: {'; '.join(parts)} is more than PEERBOT_IRR_MAX_CHANGE_PERCENT ({limit:g} %). "
            f"Check it, then accept it with `peerbot irr import {target.query}` or Import in the wizard.")
