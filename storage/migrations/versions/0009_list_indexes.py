"""indexes for list pages and type-ahead (issue 12)

- session(peer_id): a peer's sessions (type-ahead shows their IPs; `asn:` filters through it)
- session(exchange_id): the `ix:` filter and an exchange's sessions
- peer(lower(name)): case-insensitive name-prefix type-ahead, as an index range scan; an
  expression index works on SQLite and PostgreSQL alike and needs no column to keep in step
- The list's sort (router name, peer IP) walks the unique (router_id, peer_ip) index that exists
  since 0001, so no index is needed for it.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_session_peer_id', 'session', ['peer_id'], unique=False)
    op.create_index('ix_session_exchange_id', 'session', ['exchange_id'], unique=False)
    op.create_index('ix_peer_name_lower', 'peer', [sa.text('lower(name)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_peer_name_lower', table_name='peer')
    op.drop_index('ix_session_exchange_id', table_name='session')
    op.drop_index('ix_session_peer_id', table_name='session')
