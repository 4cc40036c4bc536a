"""Exchanges taken from the PeeringDB mirror: name and LAN prefixes from ix / ixlan / ixpfx."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from bot.base.errors import NotFound, PeerbotError
from storage.db import Database
from storage.models import Exchange, PdbIx, PdbIxLan, PdbIxPfx

NAME_MAX = 128  # exchange.name


@dataclass(frozen=True)
class IxFromMirror:
    ix_id: int
    name: str
    lan_prefix_v4: str | None
    lan_prefix_v6: str | None
    other_prefixes: tuple[str, ...] = ()  # further LANs of the same IX, not stored on the exchange


def ix_from_mirror(s: OrmSession, ix_id: int) -> IxFromMirror:
    ix = s.get(PdbIx, ix_id)
    if ix is None or ix.status == "deleted":
        raise NotFound(f"PeeringDB exchange {ix_id} is not in the mirror: run `peerbot peeringdb sync` "
                       "(or check the id on peeringdb.com/ix/<id>)")
    pfxs = s.scalars(
        select(PdbIxPfx).join(PdbIxLan, PdbIxLan.id == PdbIxPfx.ixlan_id)
        .where(PdbIxLan.ix_id == ix_id, PdbIxPfx.status == "ok", PdbIxLan.status == "ok")
        .order_by(PdbIxLan.id, PdbIxPfx.id)).all()
    by_family: dict[int, list[str]] = {4: [], 6: []}
    for p in pfxs:
        try:
            net = ipaddress.ip_network(p.prefix, strict=False)
        except ValueError:
            continue
        by_family[net.version].append(str(net))
    v4, v6 = by_family[4], by_family[6]
    return IxFromMirror(ix_id, ix.name[:NAME_MAX], v4[0] if v4 else None, v6[0] if v6 else None,
                        tuple(v4[1:] + v6[1:]))


def _apply(s: OrmSession, ex: Exchange, ix: IxFromMirror) -> bool:
    clash = s.scalar(select(Exchange).where(Exchange.name == ix.name, Exchange.id != ex.id)) if ix.name != ex.name else None
    values = {"peeringdb_ix_id": ix.ix_id, "lan_prefix_v4": ix.lan_prefix_v4, "lan_prefix_v6": ix.lan_prefix_v6,
              "peeringdb_managed": True}
    if clash is None:
        values["name"] = ix.name
    changed = False
    for k, v in values.items():
        if getattr(ex, k) != v:
            setattr(ex, k, v)
            changed = True
    return changed


def import_exchange(db: Database, ix_id: int, name: str | None = None) -> tuple[Exchange, bool, IxFromMirror]:
    """Create (or update) the exchange for PeeringDB ix `ix_id`; from now on each sync keeps its
    name and prefixes current. Returns (exchange, created, what the mirror said)."""
    with db.session() as s:
        ix = ix_from_mirror(s, ix_id)
        ex = s.scalar(select(Exchange).where(Exchange.peeringdb_ix_id == ix_id, Exchange.is_none.is_(False))
                      .order_by(Exchange.id))
        created = ex is None
        if ex is None:
            ex = s.scalar(select(Exchange).where(Exchange.name == (name or ix.name)))
            if ex is not None and ex.is_none:
                raise PeerbotError("'No Exchange' is built in and cannot be imported over")
            created = ex is None
            if ex is None:
                ex = Exchange(name=name or ix.name, is_none=False)
                s.add(ex)
        _apply(s, ex, ix)
        s.flush()
        s.expunge(ex)
        return ex, created, ix


def refresh_exchanges(db: Database) -> list[str]:
    """After a sync: bring every PeeringDB-managed exchange up to date; returns their names."""
    updated: list[str] = []
    with db.session() as s:
        for ex in s.scalars(select(Exchange).where(Exchange.peeringdb_managed.is_(True))):
            try:
                ix = ix_from_mirror(s, ex.peeringdb_ix_id) if ex.peeringdb_ix_id else None
            except NotFound:
                continue  # gone from PeeringDB: keep the last known values
            if ix and _apply(s, ex, ix):
                updated.append(ex.name)
    return updated
