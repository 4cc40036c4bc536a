"""The peer type-ahead (wizard's local peers, pickers.search_peers): ranked the same way on
SQLite and PostgreSQL, bounded by a LIMIT in the database, a fixed number of queries however
many peers it returns (not one a peer)."""
from __future__ import annotations

from sqlalchemy import event, insert

from bot.core import Core
from bot.sessions.pickers import search_peers
from bot.sessions.pickers import search_local_peers
from storage.models import Peer
from tests.factories import make_session

PEERS = [
    ("Cloudflare", 13335), ("Cloud Nine", 64513), ("NetCloud", 65001), ("cloudy skies", 133350),
    ("13335 Fans", 65002), ("Other", 1333), ("Alpha", 4_200_000_001), ("Alpha", 4_200_000_000),
]


def _peers(core: Core, rows=PEERS, local: bool = True) -> None:  # noqa: ANN001
    with core.db.engine.begin() as c:
        c.execute(insert(Peer), [{"name": n, "asn": a, "is_local": local} for n, a in rows])


def _names(core: Core, text: str, **kw: object) -> list[str]:
    return [f"{p.name}/{p.asn}" for p in search_peers(core.db, text, **kw)]


def test_ranking_exact_asn_then_name_prefix_then_asn_prefix_then_contains(any_core: Core) -> None:
    _peers(any_core)
    # exact ASN, then names starting with it, then ASNs starting with it (by number)
    assert _names(any_core, "13335") == ["Cloudflare/13335", "13335 Fans/65002", "cloudy skies/133350"]
    assert _names(any_core, "AS13335")[0] == "Cloudflare/13335"
    # names starting with the text (case-insensitive, by name), then names containing it
    assert _names(any_core, "CLOUD") == ["Cloud Nine/64513", "Cloudflare/13335", "cloudy skies/133350",
                                         "NetCloud/65001"]
    assert _names(any_core, "1333") == ["Other/1333", "13335 Fans/65002", "Cloudflare/13335",
                                        "cloudy skies/133350"]
    # equal names: by ASN, deterministic
    assert _names(any_core, "alpha") == ["Alpha/4200000000", "Alpha/4200000001"]
    assert _names(any_core, "") [:3] == ["13335 Fans/65002", "Alpha/4200000000", "Alpha/4200000001"]
    assert _names(any_core, "zzz") == []
    assert _names(any_core, "%") == [] and _names(any_core, "_") == []  # characters, not wildcards


def test_local_peers_only_and_their_ips_in_one_query(any_core: Core) -> None:
    _peers(any_core, [("Remote Cloud", 64999)], local=False)
    make_session(any_core, ip="192.0.2.10", name="Local Cloud", asn="65010")
    make_session(any_core, ip="192.0.2.11", name="Local Cloud", asn="65010")
    found = search_local_peers(any_core.db, "cloud")
    assert [(p.name, p.ips) for p in found] == [("Local Cloud", ["192.0.2.10", "192.0.2.11"])]
    assert [p.name for p in search_peers(any_core.db, "cloud")] == ["Local Cloud", "Remote Cloud"]


def test_bounded_by_limit_in_a_fixed_number_of_queries(any_core: Core) -> None:
    for n in range(20):  # sessions for some of them: their IPs come in one query
        make_session(any_core, ip=f"192.0.2.{n + 10}", name=f"Peer {n:03d}", asn=str(64512 + n))
    _peers(any_core, [(f"Peer {n:03d}", 64512 + n) for n in range(20, 250)])
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(any_core.db.engine, "before_cursor_execute", seen)
    try:
        found = search_peers(any_core.db, "peer", limit=100)
        by_asn = search_peers(any_core.db, "6451", limit=7)
    finally:
        event.remove(any_core.db.engine, "before_cursor_execute", seen)
    assert [p.name for p in found] == [f"Peer {n:03d}" for n in range(100)]
    assert [p.ips for p in found[:21]] == [[f"192.0.2.{n + 10}"] for n in range(20)] + [[]]
    assert [p.asn for p in by_asn] == [64512, 64513, 64514, 64515, 64516, 64517, 64518]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 8, selects  # two searches, at most four tiers + IPs each: not one a peer
    assert all("LIMIT" in s.upper() for s in selects if "peer_ip" not in s)
