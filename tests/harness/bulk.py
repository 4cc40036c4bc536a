"""Many sessions fast, straight into the tables (no provisioning checks): for the list and
type-ahead tests that need more rows than a page or a batch, and for bench/ack_latency.py."""
from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from storage.db import Database
from storage.models import AdminStatus, Exchange, Peer, Router, Session, SessionType

WORDS = ("Alpha", "Beta", "Gamma", "Delta", "Nordic", "Transit", "Fiber", "Cloud", "Metro", "Global", "Telecom",
         "Carrier", "Networks", "Online", "Broadband", "Hosting", "Data", "Internet", "Backbone", "Access")
STATES = ("Established",) * 6 + ("Idle", "Active", "Connect", None)
BATCH = 5000


@dataclass(frozen=True)
class Loaded:
    sessions: int
    routers: int
    peers: int
    exchanges: int


def peer_name(i: int) -> str:
    """A deterministic, varied peer name: two words and a number."""
    return f"{WORDS[i % len(WORDS)]} {WORDS[(i // len(WORDS)) % len(WORDS)]} {i}"


def load_sessions(db: Database, sessions: int, *, routers: int = 200, peers: int | None = None,
                  exchanges: int = 20, seed: int = 12) -> Loaded:
    """`sessions` sessions over `routers` routers (edge-001 …), `peers` peers (default a quarter of
    the sessions) and `exchanges` exchanges; BGP states mixed. Adds to what is there."""
    rnd = random.Random(seed)
    peers = peers or max(1, sessions // 4)
    with db.engine.begin() as c:
        first_router = (c.scalar(select(func.max(Router.id))) or 0) + 1
        c.execute(insert(Router), [
            {"name": f"edge-{first_router + i:03d}", "host": f"10.255.{(first_router + i) // 250}.{(first_router + i) % 250 + 1}",
             "port": 22, "platform": "frr", "username": "bench", "local_asns": [64500], "addresses": []}
            for i in range(routers)])
        router_ids = list(c.scalars(select(Router.id).where(Router.id >= first_router).order_by(Router.id)))
        first_ix = (c.scalar(select(func.max(Exchange.id))) or 0) + 1
        c.execute(insert(Exchange), [
            {"name": f"BENCH-IX {first_ix + i}", "lan_prefix_v4": "100.64.0.0/10", "lan_prefix_v6": None,
             "is_none": False, "peeringdb_managed": False} for i in range(exchanges)])
        ix_ids = list(c.scalars(select(Exchange.id).where(Exchange.id >= first_ix).order_by(Exchange.id)))
        first_peer = (c.scalar(select(func.max(Peer.id))) or 0) + 1
        for start in range(0, peers, BATCH):
            c.execute(insert(Peer), [{"name": peer_name(first_peer + i), "asn": 4_200_000_000 + first_peer + i,
                                      "is_local": i % 2 == 0} for i in range(start, min(peers, start + BATCH))])
        peer_ids = list(c.scalars(select(Peer.id).where(Peer.id >= first_peer).order_by(Peer.id)))
        base = int(ipaddress.IPv4Address("100.64.0.0"))
        first_ip = c.scalar(select(func.count()).select_from(Session)) or 0
        for start in range(0, sessions, BATCH):
            rows = []
            for i in range(start, min(sessions, start + BATCH)):
                state = rnd.choice(STATES)
                rows.append({
                    "session_type": SessionType.PUBLIC, "exchange_id": ix_ids[i % len(ix_ids)],
                    "router_id": router_ids[i % len(router_ids)], "local_asn": 64500,
                    "peer_id": peer_ids[i % len(peer_ids)],
                    "peer_ip": str(ipaddress.IPv4Address(base + first_ip + i)), "address_family": 4,
                    "admin_status": AdminStatus.DOWN if i % 50 == 0 else AdminStatus.UP, "configured": i % 40 != 0,
                    "bgp_state": state, "prefixes_received": rnd.randint(0, 5000) if state == "Established" else None,
                    "notes": f"ticket NET-{i}" if i % 10 == 0 else None, "needs_check": False,
                })
            c.execute(insert(Session), rows)
    return Loaded(sessions=sessions, routers=routers, peers=peers, exchanges=exchanges)
