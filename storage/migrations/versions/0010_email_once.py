"""email goes out once (issue 21)

email_send: every Send of an email, claimed under a unique key *before* SMTP is called, so a
retried, replayed or double-clicked Send (in this process or another) finds the first claim
and does not mail again. Its state says whether the mail went (sent), did not (failed), or may
have (unknown: peerbot stopped, or the connection broke, while it was being handed over).
Ids are never reused (SQLite AUTOINCREMENT): a Send again button names a row by its id.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('email_send',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('session_label', sa.String(length=255), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('smtp_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('template', sa.String(length=32), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('cc', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body_encrypted', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('again_of', sa.Integer(), nullable=True),
    sa.Column('origin_channel', sa.String(length=32), nullable=True),
    sa.Column('origin_ts', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', name='uq_email_send_key'),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_email_send_session_id', 'email_send', ['session_id'], unique=False)
    op.create_index('ix_email_send_again_of', 'email_send', ['again_of'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_email_send_again_of', table_name='email_send')
    op.drop_index('ix_email_send_session_id', table_name='email_send')
    op.drop_table('email_send')
