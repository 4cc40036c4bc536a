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
    # --- helper "tpl" (rendered filters): the inbound filter object last configured for a
    # session (bot/routers/filters.py name), so that a re-configure or a Delete removes the old
    # one unless another configured session on the same router still uses it.
    with op.batch_alter_table('session', schema=None) as batch:
        batch.add_column(sa.Column('prefix_filter', sa.String(length=80), nullable=True))
    # --- end of helper "tpl"


def downgrade() -> None:
    # --- helper "tpl"
    with op.batch_alter_table('session', schema=None) as batch:
        batch.drop_column('prefix_filter')
    # --- end of helper "tpl"
