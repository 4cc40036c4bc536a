"""Router locks across processes (bot/core/locks.py), on both databases: what one process
holds another cannot take, until it is released; on PostgreSQL every lock of a process sits on
one connection, so holding many never takes the pool's connections from queries."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from bot.core.locks import ChangeLocks
from storage.db import Database


def test_a_router_held_by_one_process_is_refused_to_another_until_released(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    first, second = ChangeLocks.for_engine(db.engine), ChangeLocks.for_engine(Database(database_url).engine)
    assert first.try_router(1) and first.try_router(2)
    assert not second.try_router(1) and not second.try_router(2)
    first.release_router(1)
    assert second.try_router(1) and not second.try_router(2)
    first.release_router(2)
    assert second.try_router(2)
    second.release_router(1)
    second.release_router(2)
    assert first.try_router(1) and first.try_router(2)  # and back
    first.release_router(1)
    first.release_router(2)


def test_postgresql_holds_many_router_locks_without_the_pool_and_leaves_none_behind(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return  # (SQLite: a lock file per router, no connection involved)
    db = Database(database_url)
    db.upgrade()
    locks = ChangeLocks.for_engine(db.engine)
    held = range(1, 61)  # more than the pool's 40 connections
    assert all(locks.try_router(r) for r in held)
    with db.engine.connect() as c:  # queries still get a connection
        assert c.execute(text("SELECT 1")).scalar() == 1
    assert db.engine.pool.checkedout() == 1  # the lock connection, one for all 60
    for r in held:
        locks.release_router(r)
    assert db.engine.pool.checkedout() == 0  # given back when idle ...
    admin = create_engine(database_url)
    key = locks._advisory._class_key  # this schema's first advisory key (other tests use others)
    with admin.connect() as c:  # ... and no advisory lock of this process is left anywhere
        assert c.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :k"),
                         {"k": key}).scalar() == 0
    admin.dispose()
