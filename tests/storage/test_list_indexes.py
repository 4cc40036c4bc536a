"""Migration 0009's indexes exist on SQLite and PostgreSQL, and the queries they are for can use
them (PostgreSQL: with sequential scans off, as a small test table would never pick an index)."""
from __future__ import annotations

from sqlalchemy import text

from storage.db import Database

INDEXES = {"ix_session_peer_id", "ix_session_exchange_id", "ix_peer_name_lower"}
USES = {
    "ix_peer_name_lower": "SELECT id FROM peer WHERE lower(name) >= 'clo' AND lower(name) < 'clp'",
    "ix_session_peer_id": "SELECT peer_ip FROM session WHERE peer_id IN (1, 2, 3)",
    "ix_session_exchange_id": "SELECT id FROM session WHERE exchange_id = 7",
}


def test_indexes_exist_and_serve_their_queries(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as c:
        if c.dialect.name == "sqlite":
            names = set(c.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index'")))
            plans = {ix: " ".join(str(r[-1]) for r in c.execute(text("EXPLAIN QUERY PLAN " + q))) for ix, q in USES.items()}
        else:
            names = set(c.scalars(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")))
            c.execute(text("SET enable_seqscan = off"))
            plans = {ix: " ".join(c.scalars(text("EXPLAIN " + q))) for ix, q in USES.items()}
    assert INDEXES <= names
    for ix, plan in plans.items():
        assert ix in plan, plan
    db.downgrade("0008")
    with db.engine.connect() as c:
        query = ("SELECT name FROM sqlite_master WHERE type = 'index'" if c.dialect.name == "sqlite"
                 else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        assert not INDEXES & set(c.scalars(text(query)))
    db.dispose()
