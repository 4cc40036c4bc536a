"""Schema only: SQLAlchemy 2 typed models, engine / session (db.py), Alembic migrations.

May import: nothing of peerbot."""
