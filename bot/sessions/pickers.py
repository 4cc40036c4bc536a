"""Type-ahead searches for the wizard's selects once they outgrow Slack's 100 static options
(exchanges, routers, peer groups, local peers). Name contains the text, or the id/ASN matches;
peers are ranked (exact ASN, name prefix, ASN prefix, name contains) through indexes."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, or_, select

from bot.sessions.catalog import ExchangeView, PeerView
from bot.base.validation import FieldError, parse_asn
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


def search_peers(db: Database, text: str = "", limit: int = 100) -> list[PeerView]:
    """Known peers by name or ASN (type-ahead), best first; at most `limit` (Slack allows 100
    options). Ranked and bounded in the database: ranked_peers."""
    with db.engine.connect() as conn:
        return ranked_peers(conn, text, limit)


def search_local_peers(db: Database, text: str = "", limit: int = LIMIT) -> list[PeerView]:
    """Local/custom peers by name or ASN, with the IPs already used with them (ranked as search_peers)."""
    with db.engine.connect() as conn:  # plain reads: Core rows, no ORM session
        return ranked_peers(conn, text, limit, local_only=True)


# -- peers: ranked, indexed, bounded ------------------------------------------------------------
ASN_DIGITS = 10  # 4294967295


def _upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (binary order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def ranked_peers(s, text: str, limit: int = LIMIT, *, local_only: bool = False) -> list[PeerView]:  # noqa: ANN001
    # `s`: a Connection (or an ORM session)
    """Peers for a type-ahead, best first, at most `limit`, in at most five queries whatever the
    table holds: (1) the exact ASN, (2) names starting with the text (a range scan on the
    lower(name) index), (3) ASNs starting with the digits typed (ranges on the asn index),
    (4) names containing the text; each tier sorted by name (ASNs: by number), then the IPs
    of all of them in one query. Every query has its LIMIT in the database."""
    limit = max(0, min(limit, 10 * LIMIT))  # callers ask for LIMIT + 1 to learn whether more exist
    query = (text or "").strip().lower()[:100]
    cols = select(Peer.id, Peer.name, Peer.asn, Peer.peeringdb_net_id, Peer.as_set, Peer.is_local)
    if local_only:
        cols = cols.where(Peer.is_local.is_(True))
    by_name = (func.lower(Peer.name), Peer.asn, Peer.id)
    found: dict[int, object] = {}

    def add(stmt, keep=lambda row: True) -> None:  # noqa: ANN001
        if len(found) < limit:  # `limit` rows: enough for what is missing even if all found are among them
            for row in s.execute(stmt.limit(limit)):
                if row.id not in found and keep(row) and len(found) < limit:
                    found[row.id] = row

    if not query:
        add(cols.order_by(*by_name))
    else:
        try:
            asn: int | None = parse_asn(query).value
        except FieldError:
            asn = None
        if asn is not None:
            add(cols.where(Peer.asn == asn).order_by(Peer.id))
        # A range, then startswith: exact in binary collations (SQLite, PostgreSQL "C"); the check
        # keeps a linguistic collation from adding strays.
        add(cols.where(func.lower(Peer.name) >= query, func.lower(Peer.name) < _upper_bound(query)).order_by(*by_name),
            keep=lambda row: row.name.lower().startswith(query))
        digits = query.removeprefix("as")
        if digits.isascii() and digits.isdigit() and len(digits) < ASN_DIGITS and not digits.startswith("0"):
            n = int(digits)
            ranges = [and_(Peer.asn >= n * 10**e, Peer.asn < (n + 1) * 10**e)
                      for e in range(1, ASN_DIGITS - len(digits) + 1)]
            add(cols.where(or_(*ranges)).order_by(Peer.asn, Peer.id))
        add(cols.where(_contains(Peer.name, query)).order_by(*by_name))
    rows = list(found.values())
    ips: dict[int, set[str]] = defaultdict(set)
    if rows:
        for pid, ip in s.execute(select(Session.peer_id, Session.peer_ip).where(Session.peer_id.in_(list(found)))):
            ips[pid].add(ip)
    return [PeerView(id=r.id, name=r.name, asn=r.asn, peeringdb_net_id=r.peeringdb_net_id, as_set=r.as_set,  # type: ignore[attr-defined]
                     is_local=r.is_local, ips=sorted(ips[r.id])) for r in rows]  # type: ignore[attr-defined]
