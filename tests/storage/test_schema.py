"""The migrations and the model constraints, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import AuditEvent, Exchange, Peer, Router, Session, SessionType

TABLES = {"router", "peer_group", "exchange", "peer", "session", "audit_event", "as_set", "idempotency_key",
          "alembic_version"}


def test_upgrade_creates_schema_and_builtin_exchange(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    assert TABLES <= set(inspect(db.engine).get_table_names())
    with db.session() as s:
        builtin = s.scalars(select(Exchange).where(Exchange.is_none.is_(True))).all()
    assert [x.name for x in builtin] == ["No Exchange"]
    db.downgrade("base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.upgrade()  # and back up again: the migration is repeatable
    db.dispose()


def _session_rows(db: Database) -> tuple[int, int, int]:
    with db.session() as s:
        router = Router(name="r1", host="h", port=22, platform="frr", username="u", local_asns=[64500], addresses=[])
        peer = Peer(name="P", asn=65601)
        ix = s.scalar(select(Exchange).where(Exchange.is_none.is_(True)))
        s.add_all([router, peer])
        s.flush()
        return router.id, peer.id, ix.id


def test_router_and_peer_ip_is_unique(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    router_id, peer_id, ix_id = _session_rows(db)

    def add() -> None:
        with db.session() as s:
            s.add(Session(session_type=SessionType.LOCAL, exchange_id=ix_id, router_id=router_id, local_asn=64500,
                          peer_id=peer_id, peer_ip="192.0.2.10", address_family=4))

    add()
    with pytest.raises(IntegrityError):
        add()
    with db.session() as s:
        assert s.scalar(select(Session.peer_ip)) == "192.0.2.10"
        assert len(s.scalars(select(Session)).all()) == 1
    db.dispose()


def test_json_and_enum_columns_round_trip(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    router_id, peer_id, ix_id = _session_rows(db)
    with db.session() as s:
        s.add(Session(session_type=SessionType.PRIVATE, exchange_id=ix_id, router_id=router_id, local_asn=4_200_000_001,
                      peer_id=peer_id, peer_ip="2001:db8::2", address_family=6))
        s.add(AuditEvent(actor="U1", action="x", object_type="session", object_id=1, outcome="ok",
                         after={"peer_ip": "2001:db8::2", "nested": [1, 2]}))
    with db.session() as s:
        row = s.scalar(select(Session))
        assert row.session_type is SessionType.PRIVATE and row.local_asn == 4_200_000_001
        assert s.get(Router, router_id).local_asns == [64500]
        assert s.scalar(select(AuditEvent)).after == {"peer_ip": "2001:db8::2", "nested": [1, 2]}
    db.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    """A model change without a migration shows up here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    db.dispose()
    assert diff == []
