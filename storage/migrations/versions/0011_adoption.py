"""discovery, import and drift of existing BGP neighbors (issue 17)

router: config_read_at, config_error, config_skipped (the last read of its BGP configuration).
session.md5_unknown: imported with a TCP-MD5 key peerbot could not read.
router_neighbor: each neighbor as the router's configuration had it at the last read.
drift_item: differences between the routers and the database, and what was decided.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (SQLite has it): a batch rebuild of these tables would drop their
    # AUTOINCREMENT (ids never reused, migration 0003) and session's expression index (0009)
    op.add_column('router', sa.Column('config_read_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('router', sa.Column('config_error', sa.Text(), nullable=True))
    op.add_column('router', sa.Column('config_skipped', sa.JSON(), nullable=True))
    op.add_column('session', sa.Column('md5_unknown', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('router_neighbor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('router_id', sa.Integer(), nullable=False),
    sa.Column('peer_ip', sa.String(length=64), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['router_id'], ['router.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('router_id', 'peer_ip'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('router_neighbor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_router_neighbor_router_id'), ['router_id'], unique=False)
    op.create_table('drift_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('router_id', sa.Integer(), nullable=False),
    sa.Column('peer_ip', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('differences', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('change_request_id', sa.Integer(), nullable=True),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_fingerprint', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['router_id'], ['router.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('router_id', 'peer_ip'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('drift_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drift_item_router_id'), ['router_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drift_item_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drift_item_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('drift_item')
    op.drop_table('router_neighbor')
    with op.batch_alter_table('session', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('md5_unknown')
    with op.batch_alter_table('router', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('config_skipped')
        batch_op.drop_column('config_error')
        batch_op.drop_column('config_read_at')
