"""fleet polling: per-router poll claims (issue 11)

One row per router (created on its first poll): the process that holds the claim, until when
(a lease, so a crashed process's claim lapses), and when a scheduled poll is next due. Two bot
processes on one database claim with a conditional UPDATE, so each router is polled once per interval.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('router_poll',
    sa.Column('router_id', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['router_id'], ['router.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('router_id')
    )


def downgrade() -> None:
    op.drop_table('router_poll')
