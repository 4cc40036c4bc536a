"""scheduled_run: when each background job last ran, so that several processes (or hosts) on one
database run a scheduled job once per interval (issue 19, bot/core/runs.py)

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduled_run',
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('job')
    )


def downgrade() -> None:
    op.drop_table('scheduled_run')
