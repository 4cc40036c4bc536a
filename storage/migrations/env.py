"""Alembic environment: runs against the engine that storage.db.Database hands over."""
from alembic import context

from storage.models import Base

# PostgreSQL advisory lock (class, key) held by the migrating transaction: replicas that start at
# once on one schema migrate one after the other - the first does the work, the others then find
# the schema at head. Without it they raced creating alembic_version and the tables and hung.
# The key is the schema's, so peerbots in other schemas of the database are not held up.
MIGRATION_LOCK_CLASS = 0x50424D47  # "PBMG"

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: take the URL from the environment
    import os

    from storage.db import make_engine

    engine = make_engine(os.environ.get("PEERBOT_DATABASE_URL", "sqlite:///peerbot.db"))

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (copy, drop, rename). With foreign keys on, the drop
        # would cascade into the tables that point at it (0003 rebuilds `router`: every peer
        # group would go). The pragma only takes effect outside a transaction: set it first.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,  # SQLite needs batch ALTERs
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(
                    f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_CLASS}, hashtext(current_schema()))")
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left {len(broken)} rows with a dangling foreign key")
        connection.commit()
    finally:
        if sqlite:  # the connection goes back to the pool: as make_engine set it up
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
