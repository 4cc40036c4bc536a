"""Engine and session factory (SQLite by default, PostgreSQL), and schema upgrades via Alembic."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger("peerbot.db")


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic logs at INFO what it does on every upgrade, even a no-op one (eight lines at each
    start); keep its warnings, drop the chatter for the duration of the command."""
    logger = logging.getLogger("alembic")
    saved = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(saved)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # SQLAlchemy's default pool for a SQLite file keeps 5 connections (10 more on demand, each
        # closed again when returned): with the HTTP server's 32 listener threads busy, every
        # request past the fifth opened a connection and ran the PRAGMAs below. A SQLite
        # connection costs little to keep, so keep as many as the server runs listeners.
        pool = {} if ":memory:" in url else {"pool_size": 32, "max_overflow": 32}  # :memory: has one per thread
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            # WAL lets the scheduler read while a handler writes.
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                # FULL, not NORMAL: NORMAL skips the fsync of each commit (faster fleet polls),
                # but after a power loss the last commits may be gone - and a change request is
                # committed *before* its commands reach a router, so losing it would leave a
                # router change with no record. Large fleets belong on PostgreSQL anyway.
                cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # Workers each hold a connection for their router lock (PostgreSQL advisory lock) besides
    # their unit of work: room for both.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)


class Database:
    """One per process: owns the engine; hands out one transaction per unit of work."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[OrmSession]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        s = self._factory()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        with _quiet_alembic():
            before = self.revision()
            command.upgrade(self.alembic_config(), revision)
            after = self.revision()
        if after != before:  # one line when something changed, none on an ordinary start
            log.info("database schema migrated from %s to %s", before or "empty", after)

    def downgrade(self, revision: str) -> None:
        with _quiet_alembic():
            command.downgrade(self.alembic_config(), revision)

    def revision(self) -> str | None:
        """The schema's current Alembic revision (None: never migrated)."""
        with _quiet_alembic(), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()
