"""groups: bound group chats; meetings: notices and RSVP

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 12:02:23.045338
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import bot.models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bound_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_group_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('scope_kind', sa.Enum('national', 'region', 'group', 'province', name='scope_kind', native_enum=False, length=16), nullable=False),
    sa.Column('scope_code', sa.String(length=32), nullable=False),
    sa.Column('daily_digest', sa.Boolean(), nullable=False),
    sa.Column('weekly_digest', sa.Boolean(), nullable=False),
    sa.Column('assembly_results', sa.Boolean(), nullable=False),
    sa.Column('certification_requests', sa.Boolean(), nullable=False),
    sa.Column('bound_by_id', sa.Integer(), nullable=True),
    sa.Column('bound_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bound_by_id'], ['members.id'], name=op.f('fk_bound_groups_bound_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bound_groups')),
    sa.UniqueConstraint('line_group_id', name=op.f('uq_bound_groups_line_group_id'))
    )
    op.create_table('meeting_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('starts_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('scope_kind', sa.Enum('national', 'region', 'group', 'province', name='scope_kind', native_enum=False, length=16), nullable=False),
    sa.Column('scope_code', sa.String(length=32), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('issue_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'scheduled', 'sent', 'cancelled', name='notice_status', native_enum=False, length=16), nullable=False),
    sa.Column('send_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_meeting_notices_created_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_notices'))
    )
    with op.batch_alter_table('meeting_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_notices_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_meeting_notices_status_send_at', ['status', 'send_at'], unique=False)

    op.create_table('meeting_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Enum('going', 'not_going', 'maybe', name='rsvp_answer', native_enum=False, length=16), nullable=True),
    sa.Column('answered_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_meeting_recipients_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['meeting_notices.id'], name=op.f('fk_meeting_recipients_notice_id_meeting_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_recipients')),
    sa.UniqueConstraint('notice_id', 'member_id', name=op.f('uq_meeting_recipients_notice_id_member_id'))
    )
    with op.batch_alter_table('meeting_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_recipients_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.create_index('ix_activity_reports_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_activity_reports_activity_date', ['activity_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_reports_activity_date')
        batch_op.drop_index('ix_activity_reports_created_at')

    with op.batch_alter_table('meeting_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_recipients_member_id'))

    op.drop_table('meeting_recipients')
    with op.batch_alter_table('meeting_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_notices_status_send_at')
        batch_op.drop_index(batch_op.f('ix_meeting_notices_created_by_id'))

    op.drop_table('meeting_notices')
    op.drop_table('bound_groups')
