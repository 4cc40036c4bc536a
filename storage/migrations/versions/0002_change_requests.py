"""change requests (issue 7)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

STATES = ("requested", "approved", "running", "done", "failed", "rejected", "expired", "cancelled")


def upgrade() -> None:
    op.create_table(
        'change_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('state', sa.Enum(*STATES, name='change_state', native_enum=False, length=16), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('router_ids', sa.JSON(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('edited_encrypted', sa.Text(), nullable=True),
        sa.Column('needs_approval', sa.Boolean(), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('runner', sa.String(length=128), nullable=True),
        sa.Column('outcome', sa.Text(), nullable=True),
        sa.Column('idempotency_key', sa.String(length=160), nullable=True),
        sa.Column('origin_channel', sa.String(length=32), nullable=True),
        sa.Column('origin_ts', sa.String(length=32), nullable=True),
        sa.Column('origin_response_url', sa.String(length=512), nullable=True),
        sa.Column('approval_channel', sa.String(length=32), nullable=True),
        sa.Column('approval_ts', sa.String(length=32), nullable=True),
        sa.Column('reported_state', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    op.create_index(op.f('ix_change_request_state'), 'change_request', ['state'], unique=False)
    op.create_table(
        'change_request_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('router_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=255), nullable=False),
        sa.Column('commands', sa.JSON(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['change_request.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_change_request_item_request_id'), 'change_request_item', ['request_id'], unique=False)
    op.create_index(op.f('ix_change_request_item_session_id'), 'change_request_item', ['session_id'], unique=False)
    with op.batch_alter_table('session') as batch:
        batch.add_column(sa.Column('needs_check', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('session') as batch:
        batch.drop_column('needs_check')
    op.drop_index(op.f('ix_change_request_item_session_id'), table_name='change_request_item')
    op.drop_index(op.f('ix_change_request_item_request_id'), table_name='change_request_item')
    op.drop_table('change_request_item')
    op.drop_index(op.f('ix_change_request_state'), table_name='change_request')
    op.drop_table('change_request')
