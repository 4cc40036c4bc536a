"""A big fleet in the database in one go (10,000 sessions in seconds): routers, one peer per
session, sessions in mixed states, and a day of state history. For the App Home size test and
bench/bench_home.py; rows go straight in, as an inventory import of that size would."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from bot.core import Core
from storage.models import AdminStatus, Exchange, Peer, Router, Session, SessionType, StateHistory

STATES = ("Established", "Established", "Established", "Established", "Idle", "Active", "Connect", None)


def populate(core: Core, *, sessions: int = 10_000, routers: int = 50, changed: int = 3_000) -> dict[str, int]:
    """Returns the expected counts: {state or "None": n, "changed_24h": n, "routers": n}."""
    now = datetime.now(timezone.utc)
    with core.db.session() as s:
        exchange = s.scalar(select(Exchange.id).where(Exchange.is_none.is_(False)).limit(1))
        first_router = s.scalar(select(func_max(Router.id))) or 0
        s.execute(insert(Router), [
            {"name": f"bulk-r{i:03d}", "host": "127.0.0.1", "port": 22, "platform": "frr", "username": "u",
             "local_asns": [64500], "addresses": [], "last_polled": now - timedelta(minutes=i % 7),
             "last_error": f"bulk-r{i:03d}: timeout" if i % 10 == 0 else None} for i in range(routers)])
        router_ids = list(s.scalars(select(Router.id).where(Router.id > first_router).order_by(Router.id)))
        first_peer = s.scalar(select(func_max(Peer.id))) or 0
        s.execute(insert(Peer), [{"name": f"Bulk Peer {i}", "asn": 4_200_000_000 + i, "is_local": True,
                                  "created_at": now} for i in range(sessions)])
        peer_ids = list(s.scalars(select(Peer.id).where(Peer.id > first_peer).order_by(Peer.id)))
        rows = []
        counts: dict[str, int] = {}
        for i, pid in enumerate(peer_ids):
            state = STATES[i % len(STATES)]
            counts[str(state)] = counts.get(str(state), 0) + 1
            rows.append({"session_type": SessionType.PUBLIC, "exchange_id": exchange,
                         "router_id": router_ids[i % len(router_ids)], "local_asn": 64500, "peer_id": pid,
                         "peer_ip": f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}", "address_family": 4,
                         "admin_status": AdminStatus.UP, "configured": True, "bgp_state": state,
                         "needs_check": False, "created_at": now, "updated_at": now})
        s.execute(insert(Session), rows)
        first_session = s.scalar(select(Session.id).where(Session.peer_id == peer_ids[0]))
        s.execute(insert(StateHistory), [
            {"session_id": first_session + i, "router_id": router_ids[i % len(router_ids)],
             "at": now - timedelta(minutes=i % 1400), "old_state": "Established", "new_state": "Idle",
             "source": "poll"} for i in range(changed)])
    return {**counts, "changed_24h": changed, "routers": routers}


def func_max(col):  # noqa: ANN001, ANN201
    from sqlalchemy import func

    return func.max(col)
