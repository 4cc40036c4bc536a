"""PeeringDB mirror (issue 9)

The pdb_* tables mirror PeeringDB objects (ids are PeeringDB's); pdb_net_token is the
type-ahead's substring index; pdb_sync_state holds the ?since= of each object type.
exchange.peeringdb_managed: the exchange follows the mirror; session.max_prefixes_v4/v6.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite rebuilds the table here; keep AUTOINCREMENT (0003: exchange ids are never reused)
    with op.batch_alter_table('exchange', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('peeringdb_managed', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_prefixes_v4', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_prefixes_v6', sa.Integer(), nullable=True))
    op.create_table('pdb_ix',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('name_long', sa.String(length=255), nullable=True),
    sa.Column('city', sa.String(length=192), nullable=True),
    sa.Column('country', sa.String(length=8), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('pdb_ixlan',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('ix_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('mtu', sa.Integer(), nullable=True),
    sa.Column('rs_asn', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pdb_ixlan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdb_ixlan_ix_id'), ['ix_id'], unique=False)

    op.create_table('pdb_ixpfx',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('ixlan_id', sa.Integer(), nullable=False),
    sa.Column('protocol', sa.String(length=8), nullable=False),
    sa.Column('prefix', sa.String(length=64), nullable=False),
    sa.Column('in_dfz', sa.Boolean(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pdb_ixpfx', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdb_ixpfx_ixlan_id'), ['ixlan_id'], unique=False)

    op.create_table('pdb_net',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('name_lc', sa.String(length=255), nullable=False),
    sa.Column('aka', sa.String(length=255), nullable=True),
    sa.Column('asn', sa.BigInteger(), nullable=False),
    sa.Column('irr_as_set', sa.Text(), nullable=True),
    sa.Column('info_prefixes4', sa.Integer(), nullable=True),
    sa.Column('info_prefixes6', sa.Integer(), nullable=True),
    sa.Column('policy_general', sa.String(length=32), nullable=True),
    sa.Column('info_ipv6', sa.Boolean(), nullable=True),
    sa.Column('info_unicast', sa.Boolean(), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pdb_net', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdb_net_asn'), ['asn'], unique=False)
        batch_op.create_index(batch_op.f('ix_pdb_net_name_lc'), ['name_lc'], unique=False)
        batch_op.create_index(batch_op.f('ix_pdb_net_org_id'), ['org_id'], unique=False)

    op.create_table('pdb_net_token',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('net_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('token', 'net_id')
    )
    with op.batch_alter_table('pdb_net_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdb_net_token_net_id'), ['net_id'], unique=False)

    op.create_table('pdb_netixlan',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('net_id', sa.Integer(), nullable=False),
    sa.Column('ix_id', sa.Integer(), nullable=False),
    sa.Column('ixlan_id', sa.Integer(), nullable=False),
    sa.Column('asn', sa.BigInteger(), nullable=False),
    sa.Column('ipaddr4', sa.String(length=64), nullable=True),
    sa.Column('ipaddr6', sa.String(length=64), nullable=True),
    sa.Column('speed', sa.BigInteger(), nullable=True),
    sa.Column('is_rs_peer', sa.Boolean(), nullable=True),
    sa.Column('operational', sa.Boolean(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pdb_netixlan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdb_netixlan_ix_id'), ['ix_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pdb_netixlan_net_id'), ['net_id'], unique=False)

    op.create_table('pdb_org',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('aka', sa.String(length=255), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('pdb_poc',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('net_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('visible', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pdb_poc', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdb_poc_net_id'), ['net_id'], unique=False)

    op.create_table('pdb_sync_state',
    sa.Column('object_type', sa.String(length=16), nullable=False),
    sa.Column('since', sa.BigInteger(), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('object_type')
    )


def downgrade() -> None:
    op.drop_table('pdb_sync_state')
    with op.batch_alter_table('pdb_poc', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdb_poc_net_id'))

    op.drop_table('pdb_poc')
    op.drop_table('pdb_org')
    with op.batch_alter_table('pdb_netixlan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdb_netixlan_net_id'))
        batch_op.drop_index(batch_op.f('ix_pdb_netixlan_ix_id'))

    op.drop_table('pdb_netixlan')
    with op.batch_alter_table('pdb_net_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdb_net_token_net_id'))

    op.drop_table('pdb_net_token')
    with op.batch_alter_table('pdb_net', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdb_net_org_id'))
        batch_op.drop_index(batch_op.f('ix_pdb_net_name_lc'))
        batch_op.drop_index(batch_op.f('ix_pdb_net_asn'))

    op.drop_table('pdb_net')
    with op.batch_alter_table('pdb_ixpfx', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdb_ixpfx_ixlan_id'))

    op.drop_table('pdb_ixpfx')
    with op.batch_alter_table('pdb_ixlan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdb_ixlan_ix_id'))

    op.drop_table('pdb_ixlan')
    op.drop_table('pdb_ix')
    # SQLite rebuilds the table here; keep AUTOINCREMENT (0003: exchange ids are never reused)
    with op.batch_alter_table('exchange', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('peeringdb_managed')
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_column('max_prefixes_v6')
        batch_op.drop_column('max_prefixes_v4')
