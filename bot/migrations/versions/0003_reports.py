"""reports: activity reports, their photos, member preferences (reminder pause)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:40:40.311897
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import bot.models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('member_preferences',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reminders_paused_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_preferences_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_preferences'))
    )
    op.create_table('activity_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('activity_type', sa.Enum('meeting', 'training', 'savings', 'housing', 'welfare_fund', 'land', 'enterprise', 'disaster', 'other', name='activity_type', native_enum=False, length=16), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('activity_date', sa.Date(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('budget_source', sa.Enum('community_fund', 'codi', 'local_gov', 'other', name='budget_source', native_enum=False, length=16), nullable=True),
    sa.Column('withdrawn_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('budget IS NULL OR budget >= 0', name=op.f('ck_activity_reports_budget_not_negative')),
    sa.CheckConstraint('participants >= 0', name=op.f('ck_activity_reports_participants_not_negative')),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], name=op.f('fk_activity_reports_author_id_members')),
    sa.ForeignKeyConstraint(['issue_id'], ['strategic_issues.id'], name=op.f('fk_activity_reports_issue_id_strategic_issues')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_activity_reports_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_reports'))
    )
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_reports_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_activity_reports_org_date', ['organization_id', 'activity_date'], unique=False)

    op.create_table('report_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('line_message_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('stored', 'missing', name='photo_status', native_enum=False, length=16), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('content_type', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=100), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_report_photos_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['activity_reports.id'], name=op.f('fk_report_photos_report_id_activity_reports'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_photos')),
    sa.UniqueConstraint('line_message_id', name=op.f('uq_report_photos_line_message_id'))
    )
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_photos_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_photos_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_photos_report_id'))
        batch_op.drop_index(batch_op.f('ix_report_photos_member_id'))

    op.drop_table('report_photos')
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_reports_org_date')
        batch_op.drop_index(batch_op.f('ix_activity_reports_author_id'))

    op.drop_table('activity_reports')
    op.drop_table('member_preferences')
