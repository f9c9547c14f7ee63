"""invitations and seat nominations: appointments waiting for a registration or a confirmation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 00:50:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import bot.models.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ROLE = sa.Enum('leader', 'delegate', 'coordinator', 'secretariat', 'admin', name='role', native_enum=False, length=16)
SCOPE_KIND = sa.Enum('national', 'region', 'group', 'province', name='scope_kind', native_enum=False, length=16)


def upgrade() -> None:
    op.create_table('seat_nominations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('scope_kind', SCOPE_KIND, nullable=False),
    sa.Column('scope_code', sa.String(length=32), nullable=False),
    sa.Column('nominated_by_id', sa.Integer(), nullable=True),
    sa.Column('nominated_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['members.id'], name=op.f('fk_seat_nominations_confirmed_by_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_seat_nominations_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nominated_by_id'], ['members.id'], name=op.f('fk_seat_nominations_nominated_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_nominations')),
    sa.UniqueConstraint('member_id', 'scope_kind', 'scope_code', name=op.f('uq_seat_nominations_member_id_scope_kind_scope_code'))
    )
    with op.batch_alter_table('seat_nominations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_nominations_member_id'), ['member_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('role', ROLE, nullable=False),
    sa.Column('scope_kind', SCOPE_KIND, nullable=False),
    sa.Column('scope_code', sa.String(length=32), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['members.id'], name=op.f('fk_invitations_accepted_by_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['members.id'], name=op.f('fk_invitations_claimed_by_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['members.id'], name=op.f('fk_invitations_invited_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('code', name=op.f('uq_invitations_code'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_phone'), ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_phone'))
    op.drop_table('invitations')
    with op.batch_alter_table('seat_nominations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seat_nominations_member_id'))
    op.drop_table('seat_nominations')
