"""IRR prefix filters and max-prefix limits (issue 10)

Revision ID: 0006
Revises: 0005
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -- IRR import: as_set provenance, sizes and the last failed/flagged attempt --
    with op.batch_alter_table('as_set', schema=None) as batch_op:
        batch_op.add_column(sa.Column('irr_host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('pinned_source', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('count_v4', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('count_v6', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=500), nullable=True))
    # -- end IRR import --

    # --- rendered filters: the inbound filter object last configured for a
    # session (bot/routers/filters.py name), so that a re-configure or a Delete removes the old
    # one unless another configured session on the same router still uses it.
    with op.batch_alter_table('session', schema=None) as batch:
        batch.add_column(sa.Column('prefix_filter', sa.String(length=80), nullable=True))
    # --- end rendered filters


def downgrade() -> None:
    # -- IRR import --
    with op.batch_alter_table('as_set', schema=None) as batch_op:
        for column in ('last_error', 'last_attempt_at', 'count_v6', 'count_v4', 'pinned_source', 'irr_host'):
            batch_op.drop_column(column)
    # -- end IRR import --

    # --- rendered filters
    with op.batch_alter_table('session', schema=None) as batch:
        batch.drop_column('prefix_filter')
    # --- end rendered filters
