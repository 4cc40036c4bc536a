"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 22:51:34.140473
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('as_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('prefixes_v4', sa.JSON(), nullable=False),
    sa.Column('prefixes_v6', sa.JSON(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('exchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('peeringdb_ix_id', sa.Integer(), nullable=True),
    sa.Column('lan_prefix_v4', sa.String(length=64), nullable=True),
    sa.Column('lan_prefix_v6', sa.String(length=64), nullable=True),
    sa.Column('is_none', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('idempotency_key',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('peer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('asn', sa.BigInteger(), nullable=False),
    sa.Column('peeringdb_net_id', sa.Integer(), nullable=True),
    sa.Column('as_set', sa.String(length=128), nullable=True),
    sa.Column('is_local', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_asn'), ['asn'], unique=False)

    op.create_table('router',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_env', sa.String(length=128), nullable=True),
    sa.Column('key_file', sa.String(length=512), nullable=True),
    sa.Column('local_asns', sa.JSON(), nullable=False),
    sa.Column('addresses', sa.JSON(), nullable=False),
    sa.Column('url', sa.String(length=512), nullable=True),
    sa.Column('last_polled', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('peer_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('router_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['router_id'], ['router.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('router_id', 'name')
    )
    op.create_table('session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_type', sa.Enum('public', 'private', 'local', name='session_type', native_enum=False, length=16), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('router_id', sa.Integer(), nullable=False),
    sa.Column('peer_group_id', sa.Integer(), nullable=True),
    sa.Column('local_asn', sa.BigInteger(), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('peer_ip', sa.String(length=64), nullable=False),
    sa.Column('address_family', sa.Integer(), nullable=False),
    sa.Column('md5_encrypted', sa.Text(), nullable=True),
    sa.Column('as_set', sa.String(length=128), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('admin_status', sa.Enum('up', 'down', name='admin_status', native_enum=False, length=16), nullable=False),
    sa.Column('configured', sa.Boolean(), nullable=False),
    sa.Column('bgp_state', sa.String(length=32), nullable=True),
    sa.Column('prefixes_received', sa.Integer(), nullable=True),
    sa.Column('prefixes_accepted', sa.Integer(), nullable=True),
    sa.Column('prefixes_advertised', sa.Integer(), nullable=True),
    sa.Column('last_state_change', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_polled', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchange.id'], ),
    sa.ForeignKeyConstraint(['peer_group_id'], ['peer_group.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['peer_id'], ['peer.id'], ),
    sa.ForeignKeyConstraint(['router_id'], ['router.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('router_id', 'peer_ip', name='uq_session_router_peer_ip')
    )
    # The built-in exchange that local/custom and PNI sessions use.
    exchange = sa.table('exchange', sa.column('name', sa.String), sa.column('is_none', sa.Boolean))
    op.bulk_insert(exchange, [{'name': 'No Exchange', 'is_none': True}])


def downgrade() -> None:
    op.drop_table('session')
    op.drop_table('peer_group')
    op.drop_table('router')
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_asn'))

    op.drop_table('peer')
    op.drop_table('idempotency_key')
    op.drop_table('exchange')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    op.drop_table('as_set')
