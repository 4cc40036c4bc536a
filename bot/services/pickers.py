"""Type-ahead searches for the wizard's selects once they outgrow Slack's 100 static options
(exchanges, routers, peer groups, local peers). Name contains the text, or the id/ASN matches."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, or_, select

from bot.services.catalog import ExchangeView, PeerView
from bot.validation import FieldError, parse_asn
from storage.db import Database
from storage.models import Exchange, Peer, PeerGroup, Router, Session

LIMIT = 100


def _contains(column, text: str):  # noqa: ANN001, ANN202
    return func.lower(column).contains(text.strip().lower(), autoescape=True)


def search_exchanges(db: Database, text: str, limit: int = LIMIT) -> list[ExchangeView]:
    with db.session() as s:
        stmt = select(Exchange).order_by(Exchange.is_none.desc(), Exchange.name).limit(limit)
        if text.strip():
            stmt = stmt.where(or_(_contains(Exchange.name, text),
                                  Exchange.is_none.is_(True) if "no exchange".startswith(text.strip().lower()) else False))
        return [ExchangeView(id=x.id, name=x.name, is_none=x.is_none, peeringdb_ix_id=x.peeringdb_ix_id,
                             lan_prefix_v4=x.lan_prefix_v4, lan_prefix_v6=x.lan_prefix_v6) for x in s.scalars(stmt)]


def search_routers(db: Database, text: str, limit: int = LIMIT) -> list[tuple[int, str, str]]:
    """(id, name, platform) of routers whose name or host contains the text."""
    with db.session() as s:
        stmt = select(Router.id, Router.name, Router.platform).order_by(Router.name).limit(limit)
        if text.strip():
            stmt = stmt.where(or_(_contains(Router.name, text), _contains(Router.host, text)))
        return [(i, n, p) for i, n, p in s.execute(stmt)]


def search_peer_groups(db: Database, router_id: int | None, text: str, limit: int = LIMIT) -> list[tuple[int, str]]:
    if router_id is None:
        return []
    with db.session() as s:
        stmt = (select(PeerGroup.id, PeerGroup.name).where(PeerGroup.router_id == router_id)
                .order_by(PeerGroup.name).limit(limit))
        if text.strip():
            stmt = stmt.where(_contains(PeerGroup.name, text))
        return [(i, n) for i, n in s.execute(stmt)]


def search_local_peers(db: Database, text: str = "", limit: int = LIMIT) -> list[PeerView]:
    """Local/custom peers by name or ASN, with the IPs already used with them."""
    with db.session() as s:
        stmt = select(Peer).where(Peer.is_local.is_(True)).order_by(Peer.name, Peer.asn).limit(limit)
        if text.strip():
            conds = [_contains(Peer.name, text)]
            try:
                conds.append(Peer.asn == parse_asn(text.strip()).value)
            except FieldError:
                pass
            stmt = stmt.where(or_(*conds))
        peers = list(s.scalars(stmt))
        ips: dict[int, set[str]] = defaultdict(set)
        if peers:
            for pid, ip in s.execute(select(Session.peer_id, Session.peer_ip)
                                     .where(Session.peer_id.in_([p.id for p in peers]))):
                ips[pid].add(ip)
        return [PeerView(id=p.id, name=p.name, asn=p.asn, peeringdb_net_id=p.peeringdb_net_id, as_set=p.as_set,
                         is_local=p.is_local, ips=sorted(ips[p.id])) for p in peers]
