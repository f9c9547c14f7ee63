"""console sign-in links and sessions

The web console (bot/console) keeps its sign-in links and browser sessions in the database, so
every web process checks the same ones; only SHA-256 hashes of their tokens are stored.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 00:50:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import bot.models.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('console_sign_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('browser_hash', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('confirmed_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('denied_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_console_sign_ins_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sign_ins')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_sign_ins_token_hash'))
    )
    with op.batch_alter_table('console_sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sign_ins_member_id'), ['member_id'], unique=False)

    op.create_table('console_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_console_sessions_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_sessions_token_hash'))
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_sessions_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_member_id'))
        batch_op.drop_index(batch_op.f('ix_console_sessions_expires_at'))
    op.drop_table('console_sessions')
    with op.batch_alter_table('console_sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sign_ins_member_id'))
    op.drop_table('console_sign_ins')
