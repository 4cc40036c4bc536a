"""Alembic environment: runs against the engine that storage.db.Database hands over."""
from alembic import context

from storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: take the URL from the environment
    import os

    from storage.db import make_engine

    engine = make_engine(os.environ.get("PEERBOT_DATABASE_URL", "sqlite:///peerbot.db"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
