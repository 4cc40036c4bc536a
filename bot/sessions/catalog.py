"""Read-only look-ups that pickers need: routers, peer groups, exchanges, known peers, AS-SETs
(type-ahead searches over them: bot/sessions/pickers.py, which builds on these views)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.base.errors import NotFound
from storage.db import Database
from storage.models import Exchange, Peer, PeerGroup, Router, Session


@dataclass(frozen=True)
class RouterView:
    id: int
    name: str
    host: str
    port: int
    platform: str
    local_asns: list[int]
    addresses: list[str]
    url: str | None
    peer_groups: list[str]
    session_count: int
    last_polled: object | None
    last_error: str | None


@dataclass(frozen=True)
class ExchangeView:
    id: int
    name: str
    is_none: bool
    peeringdb_ix_id: int | None
    lan_prefix_v4: str | None
    lan_prefix_v6: str | None


@dataclass(frozen=True)
class PeerView:
    id: int
    name: str
    asn: int
    peeringdb_net_id: int | None
    as_set: str | None
    is_local: bool
    ips: list[str]  # peer IPs already used in sessions with this peer


def list_routers(db: Database, *, counts: bool = True) -> list[RouterView]:
    """Every router with its peer groups and session count, in three plain queries (the wizard's
    step 2 renders this on every submission: mapped objects for 200 routers cost ~10 ms).
    `counts=False`: session_count is 0 and the sessions are not counted (that reads them all)."""
    with db.engine.connect() as conn:
        groups: dict[int, list[str]] = defaultdict(list)
        for rid, name in conn.execute(select(PeerGroup.router_id, PeerGroup.name)):
            groups[rid].append(name)
        by_router: dict[int, int] = dict(conn.execute(
            select(Session.router_id, func.count()).group_by(Session.router_id)).all()) if counts else {}
        rows = conn.execute(select(Router.id, Router.name, Router.host, Router.port, Router.platform, Router.local_asns,
                                   Router.addresses, Router.url, Router.last_polled, Router.last_error)
                            .order_by(Router.name))
        return [RouterView(id=r.id, name=r.name, host=r.host, port=r.port, platform=r.platform,
                           local_asns=list(r.local_asns or ()), addresses=list(r.addresses or ()), url=r.url,
                           peer_groups=sorted(groups[r.id]), session_count=by_router.get(r.id, 0),
                           last_polled=r.last_polled, last_error=r.last_error) for r in rows]


def get_router(db: Database, router_id: int) -> RouterView:
    with db.session() as s:
        r = s.get(Router, router_id)
        if r is None:
            raise NotFound(f"No router #{router_id}.")
        return _router_view(s, r)


def _router_view(s, r: Router) -> RouterView:  # noqa: ANN001
    count = s.scalar(select(func.count()).where(Session.router_id == r.id)) or 0
    return RouterView(
        id=r.id, name=r.name, host=r.host, port=r.port, platform=r.platform, local_asns=list(r.local_asns),
        addresses=list(r.addresses), url=r.url, peer_groups=sorted(g.name for g in r.peer_groups),
        session_count=count, last_polled=r.last_polled, last_error=r.last_error,
    )


def list_peer_groups(db: Database, router_id: int) -> list[tuple[int, str]]:
    with db.session() as s:
        rows = s.execute(select(PeerGroup.id, PeerGroup.name).where(PeerGroup.router_id == router_id).order_by(PeerGroup.name))
        return [(i, n) for i, n in rows]


def list_exchanges(db: Database) -> list[ExchangeView]:
    with db.session() as s:
        rows = s.scalars(select(Exchange).order_by(Exchange.is_none.desc(), Exchange.name))
        return [_exchange_view(x) for x in rows]


def get_exchange(db: Database, exchange_id: int) -> ExchangeView:
    with db.session() as s:
        x = s.get(Exchange, exchange_id)
        if x is None:
            raise NotFound(f"No exchange #{exchange_id}.")
        return _exchange_view(x)


def _exchange_view(x: Exchange) -> ExchangeView:
    return ExchangeView(id=x.id, name=x.name, is_none=x.is_none, peeringdb_ix_id=x.peeringdb_ix_id,
                        lan_prefix_v4=x.lan_prefix_v4, lan_prefix_v6=x.lan_prefix_v6)


def get_peer(db: Database, peer_id: int) -> PeerView:
    with db.session() as s:
        p = s.get(Peer, peer_id)
        if p is None:
            raise NotFound(f"No peer #{peer_id}.")
        return _peer_view(s, p)


def _peer_view(s, p: Peer) -> PeerView:  # noqa: ANN001
    ips = sorted(set(s.scalars(select(Session.peer_ip).where(Session.peer_id == p.id))))
    return PeerView(id=p.id, name=p.name, asn=p.asn, peeringdb_net_id=p.peeringdb_net_id, as_set=p.as_set,
                    is_local=p.is_local, ips=ips)
