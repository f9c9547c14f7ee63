"""report daily rollups: the national digest reads a day's totals, not a million reports

report_daily_rollups (Bangkok day × province × issue: reports, participants, budget) and
report_daily_org_counts (day × organization: reports), kept by the ORM on every write of a report
(bot/models/rollups.py), and backfilled here from the reports already stored. The SQL is written
out (not imported from the models) so this migration means the same thing later.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 00:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_daily_rollups',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('participants', sa.BigInteger(), nullable=False),
    sa.Column('budget', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['province_id'], ['provinces.id'], name=op.f('fk_report_daily_rollups_province_id_provinces')),
    sa.PrimaryKeyConstraint('day', 'province_id', 'issue_id', name=op.f('pk_report_daily_rollups'))
    )
    op.create_table('report_daily_org_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_report_daily_org_counts_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'organization_id', name=op.f('pk_report_daily_org_counts'))
    )
    with op.batch_alter_table('report_daily_org_counts', schema=None) as batch_op:
        batch_op.create_index('ix_report_daily_org_counts_day_reports', ['day', 'reports'], unique=False)

    # Backfill: the live reports already stored, by the Bangkok day they came in (UTC+7, no DST).
    if op.get_bind().dialect.name == 'postgresql':
        day = "CAST(r.created_at AT TIME ZONE 'Asia/Bangkok' AS DATE)"
    else:
        day = "date(r.created_at, '+7 hours')"
    op.execute(
        "INSERT INTO report_daily_rollups (day, province_id, issue_id, reports, participants, budget) "
        f"SELECT {day}, o.province_id, COALESCE(r.issue_id, 0), COUNT(*), SUM(r.participants), "
        "COALESCE(SUM(r.budget), 0) FROM activity_reports r JOIN organizations o ON o.id = r.organization_id "
        "WHERE r.withdrawn_at IS NULL GROUP BY 1, 2, 3")
    op.execute(
        "INSERT INTO report_daily_org_counts (day, organization_id, reports) "
        f"SELECT {day}, r.organization_id, COUNT(*) FROM activity_reports r "
        "WHERE r.withdrawn_at IS NULL GROUP BY 1, 2")


def downgrade() -> None:
    with op.batch_alter_table('report_daily_org_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_daily_org_counts_day_reports')
    op.drop_table('report_daily_org_counts')
    op.drop_table('report_daily_rollups')
