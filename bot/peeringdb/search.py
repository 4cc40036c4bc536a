"""Type-ahead over the PeeringDB mirror: never a network call, and sub-linear in the mirror size.

Three tiers, in this order: the exact ASN (indexed `asn`), names starting with the text (a range
scan on the indexed `name_lc`), then names, akas and AS-SETs containing it (a range scan over
pdb_net_token, whose rows are the suffixes of every word, then an exact check in Python).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Integer, bindparam, exists, func, select
from sqlalchemy.orm import Session as OrmSession

from bot.peeringdb.mirror import TOKEN_MAX, normalise
from bot.base.validation import FieldError, parse_asn
from storage.db import Database
from storage.models import PdbIx, PdbNet, PdbNetIxLan, PdbNetToken

MAX_RESULTS = 100
# Substring tier: at most this many candidate networks (in index order) are sorted by name; only
# short or very common fragments reach it. They still get the ASN and name-prefix tiers in full.
SUBSTRING_CANDIDATES = 1000
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class NetworkHit:
    id: int
    asn: int
    name: str
    aka: str | None
    irr_as_set: str | None
    info_prefixes4: int | None
    info_prefixes6: int | None
    policy_general: str | None
    match: str  # "asn" | "prefix" | "substring"

    @property
    def label(self) -> str:
        return f"AS{self.asn} {self.name}"


_COLUMNS = (PdbNet.id, PdbNet.asn, PdbNet.name, PdbNet.aka, PdbNet.irr_as_set, PdbNet.info_prefixes4,
            PdbNet.info_prefixes6, PdbNet.policy_general, PdbNet.name_lc)


def _hit(row: Any, match: str) -> NetworkHit:
    return NetworkHit(row.id, row.asn, row.name, row.aka, row.irr_as_set, row.info_prefixes4, row.info_prefixes6,
                      row.policy_general, match)


def _upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (binary order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def mirror_is_empty(db: Database) -> bool:
    with db.session() as s:
        return not s.scalar(select(exists().where(PdbNet.id.is_not(None))))


def search_networks(db: Database, text: str, limit: int = MAX_RESULTS) -> list[NetworkHit]:
    with db.session() as s:
        return search_networks_in(s, text, limit)


def search_networks_in(s: OrmSession, text: str, limit: int = MAX_RESULTS) -> list[NetworkHit]:
    limit = max(0, min(limit, MAX_RESULTS))
    query = normalise(text)[: TOKEN_MAX * 2]
    if not query or not limit:
        return []
    hits: list[NetworkHit] = []
    seen: set[int] = set()
    live = PdbNet.status != "deleted"

    def add(rows: Iterable[Any], match: str) -> None:
        for r in rows:
            if r.id not in seen and len(hits) < limit:
                seen.add(r.id)
                hits.append(_hit(r, match))

    try:
        asn = parse_asn(query).value
    except FieldError:
        asn = None
    if asn is not None:
        add(s.execute(select(*_COLUMNS).where(PdbNet.asn == asn, live).order_by(PdbNet.id)), "asn")

    # Range scan on the index, then startswith: the range alone is exact in binary collations
    # (SQLite, PostgreSQL "C"); the check keeps linguistic collations from adding strays.
    prefix_rows = s.execute(
        select(*_COLUMNS).where(PdbNet.name_lc >= query, PdbNet.name_lc < _upper_bound(query), live)
        .order_by(PdbNet.name_lc, PdbNet.id).limit(limit + len(hits)))
    add((r for r in prefix_rows if r.name_lc.startswith(query)), "prefix")
    if len(hits) >= limit:
        return hits

    words = _WORD.findall(query)
    if not words:
        return hits
    key = max(words, key=len)[:TOKEN_MAX]
    # Two steps, not a join: given a join, PostgreSQL hashes all of pdb_net (linear in the
    # mirror); given the ids, it probes the primary key.
    # No DISTINCT in SQL: it would read the whole range before the LIMIT; this stops after
    # SUBSTRING_CANDIDATES index entries, and the few repeats are dropped here.
    rows = s.scalars(select(PdbNetToken.net_id)
                     .where(PdbNetToken.token >= key, PdbNetToken.token < _upper_bound(key))
                     .limit(SUBSTRING_CANDIDATES)).all()
    ids = list(dict.fromkeys(i for i in rows if i not in seen))
    if not ids:
        return hits
    stmt = select(*_COLUMNS).where(_id_in(s, ids), live).order_by(PdbNet.name_lc, PdbNet.id)
    if query == key:
        # One word: every candidate contains it (some word of name, aka or AS-SET starts
        # with a token that starts with it), so the database can sort and cut.
        add(s.execute(stmt.limit(limit - len(hits))), "substring")
        return hits
    add((r for r in s.execute(stmt)
         if query in r.name_lc or query in normalise(r.aka) or query in normalise(r.irr_as_set)), "substring")
    return hits


def _id_in(s: OrmSession, ids: list[int]) -> Any:
    """`id IN (...)`; on PostgreSQL `id = ANY(:array)`: one parameter instead of a thousand, which
    halves the planning time of this query."""
    if s.get_bind().dialect.name == "postgresql":
        return PdbNet.id == func.any(bindparam("net_ids", ids, type_=ARRAY(Integer)))
    return PdbNet.id.in_(ids)


def get_network(db: Database, net_id: int) -> NetworkHit | None:
    with db.session() as s:
        row = s.execute(select(*_COLUMNS).where(PdbNet.id == net_id, PdbNet.status != "deleted")).first()
        return _hit(row, "id") if row is not None else None


@dataclass(frozen=True)
class NetAtIx:
    """One of a network's ports at an exchange (a netixlan)."""

    id: int
    net_id: int
    asn: int
    ipaddr4: str | None
    ipaddr6: str | None
    speed: int | None
    is_rs_peer: bool | None
    operational: bool | None


def network_at_exchange(db: Database, net_id: int, ix_id: int) -> list[NetAtIx]:
    with db.session() as s:
        rows = s.scalars(select(PdbNetIxLan).where(PdbNetIxLan.net_id == net_id, PdbNetIxLan.ix_id == ix_id,
                                                   PdbNetIxLan.status == "ok").order_by(PdbNetIxLan.id)).all()
        return [NetAtIx(r.id, r.net_id, r.asn, r.ipaddr4, r.ipaddr6, r.speed, r.is_rs_peer, r.operational)
                for r in rows]


def exchange_name(db: Database, ix_id: int) -> str | None:
    with db.session() as s:
        ix = s.get(PdbIx, ix_id)
        return ix.name if ix else None
