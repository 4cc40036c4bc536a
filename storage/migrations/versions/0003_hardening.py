"""hardening: session ids never reused, secret-key salt (issue 8)

- app_meta: installation settings; bot.core.crypto keeps the scrypt salt of PEERBOT_SECRET_KEY there.
- SQLite: the tables whose ids travel in Slack buttons get AUTOINCREMENT, so that the id of a
  deleted row is never handed out again. SQLite cannot add it in place: each table is rebuilt
  (data, constraints and indexes copied). env.py turns foreign keys off around the migration;
  with them on, dropping the old `router` would cascade-delete every peer group. PostgreSQL
  identity columns never reuse ids: nothing to do there.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

IDS_NEVER_REUSED = ("router", "exchange", "peer", "session", "change_request")
# Where ids of rows that no longer exist can still be seen: a rebuilt table's sequence starts
# above them too, so the first new row after the upgrade cannot take a deleted row's id.
_IDS_SEEN_ELSEWHERE = {
    "session": ("SELECT max(object_id) FROM audit_event WHERE object_type = 'session'",
                "SELECT max(session_id) FROM change_request_item"),
    "change_request": ("SELECT max(object_id) FROM audit_event WHERE object_type = 'change_request'",),
}


def upgrade() -> None:
    op.create_table(
        'app_meta',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in IDS_NEVER_REUSED:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
        highest = [bind.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()]  # noqa: S608 - fixed names
        highest += [bind.exec_driver_sql(q).scalar() for q in _IDS_SEEN_ELSEWHERE.get(table, ())]
        seq = max((h for h in highest if h is not None), default=0)
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        if seq:
            bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, seq))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in reversed(IDS_NEVER_REUSED):
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
                pass
    op.drop_table('app_meta')
