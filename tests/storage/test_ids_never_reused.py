"""Ids that travel in Slack buttons are never handed out twice (migration 0003), so a button on an
old message cannot act on a newer row; and the SQLite table rebuild keeps every row."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select

from storage.db import Database
from storage.models import Base, Exchange, Peer, PeerGroup, Router, Session, SessionType


def _new_session(db: Database, ip: str) -> int:
    with db.session() as s:
        router = s.scalar(select(Router)) or Router(name="r1", host="h", port=22, platform="frr", username="u",
                                                     local_asns=[64500], addresses=[])
        peer = s.scalar(select(Peer)) or Peer(name="P", asn=65601)
        ix = s.scalar(select(Exchange).where(Exchange.is_none.is_(True)))
        row = Session(session_type=SessionType.LOCAL, exchange=ix, router=router, local_asn=64500, peer=peer,
                      peer_ip=ip, address_family=4)
        s.add(row)
        s.flush()
        return row.id


def test_the_id_of_a_deleted_session_is_not_reused(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    _new_session(db, "192.0.2.1")
    highest = _new_session(db, "192.0.2.2")
    with db.session() as s:
        s.execute(delete(Session).where(Session.id == highest))
    assert _new_session(db, "192.0.2.3") > highest
    db.dispose()


def test_every_table_marked_so_keeps_autoincrement_at_head(sqlite_url: str) -> None:
    """A later migration that rebuilds one of these tables on SQLite must keep AUTOINCREMENT
    (alembic's batch mode does not carry it over by itself)."""
    db = Database(sqlite_url)
    db.upgrade()
    marked = [t.name for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]]
    assert {"session", "router", "peer", "exchange"} <= set(marked)
    with db.engine.connect() as c:
        for name in marked:
            ddl = c.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).scalar()
            assert "AUTOINCREMENT" in ddl, name
    db.dispose()


def test_upgrade_from_0001_keeps_every_row(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.upgrade("0001")
    now = datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat()
    with db.engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO router (id, name, host, port, platform, username, local_asns, addresses) "
            "VALUES (3, 'edge1', 'h', 22, 'frr', 'u', '[64500]', '[]')")
        c.exec_driver_sql("INSERT INTO peer_group (id, router_id, name) VALUES (5, 3, 'IXP')")
        c.exec_driver_sql("INSERT INTO peer (id, name, asn, is_local, created_at) VALUES (4, 'P', 65601, 1, ?)", (now,))
        ix = c.exec_driver_sql("SELECT id FROM exchange WHERE is_none = 1").scalar()
        c.exec_driver_sql(
            "INSERT INTO session (id, session_type, exchange_id, router_id, peer_group_id, local_asn, peer_id, peer_ip, "
            "address_family, md5_encrypted, admin_status, configured, created_at, updated_at) "
            "VALUES (7, 'local', ?, 3, 5, 64500, 4, '192.0.2.7', 4, 'token', 'up', 1, ?, ?)", (ix, now, now))
        # session 9 existed once: its detail message (and buttons) may still be in Slack
        c.exec_driver_sql("INSERT INTO audit_event (at, actor, action, object_type, object_id, outcome) "
                          "VALUES (?, 'U1', 'session.delete', 'session', 9, 'ok')", (now,))
    db.upgrade()
    with db.session() as s:
        row = s.get(Session, 7)
        assert (row.peer_ip, row.router.name, row.peer.asn, row.md5_encrypted, row.configured) == (
            "192.0.2.7", "edge1", 65601, "token", True)
        assert row.peer_group is not None and row.peer_group.name == "IXP"  # no cascade on the rebuild
        assert [g.id for g in s.scalars(select(PeerGroup))] == [5]
    assert _new_session(db, "192.0.2.8") == 10
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the pooled connection
    db.downgrade("0002")  # and back: the rows stay (raw SQL: the models are ahead of 0002)
    with db.engine.connect() as c:
        assert {r[0] for r in c.exec_driver_sql("SELECT id FROM session")} == {7, 10}
        assert c.exec_driver_sql("SELECT count(*) FROM peer_group").scalar() == 1
    db.dispose()
