"""session state history and notification threads (issue 11)

state_history: every BGP state change of a session (pruned after PEERBOT_HISTORY_DAYS).
notice: the outbox of channel notices, written with the change it tells of.
notice_thread: the thread of each session (and router) in the notify channel, and its flapping.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('state_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('router_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('old_state', sa.String(length=32), nullable=True),
    sa.Column('new_state', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('prefixes_received', sa.Integer(), nullable=True),
    sa.Column('prefixes_accepted', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('state_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_state_history_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_state_history_at'), ['at'], unique=False)
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('broadcast', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_state'), ['state'], unique=False)
    op.create_table('notice_thread',
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('flapping_since', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('subject', 'channel')
    )


def downgrade() -> None:
    op.drop_table('notice_thread')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_state'))
    op.drop_table('notice')
    with op.batch_alter_table('state_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_state_history_at'))
        batch_op.drop_index(batch_op.f('ix_state_history_session_id'))
    op.drop_table('state_history')
