"""activity day totals: live reports summed per province, day and budget source, kept by triggers

The console's overview and the digest's chart read these sums instead of a year of reports
(bot/models/totals.py). Filled once here from the reports already there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 00:50:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from bot.models.totals import (
    BACKFILL,
    TOTALS_POSTGRESQL,
    TOTALS_SQLITE,
    TRIGGERS_POSTGRESQL_DROP,
    TRIGGERS_SQLITE_DROP,
)


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_day_totals',
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('budget_source', sa.String(length=16), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('participants', sa.BigInteger(), nullable=False),
    sa.Column('baht', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['province_id'], ['provinces.id'], name=op.f('fk_activity_day_totals_province_id_provinces')),
    sa.PrimaryKeyConstraint('province_id', 'day', 'budget_source', name=op.f('pk_activity_day_totals'))
    )
    with op.batch_alter_table('activity_day_totals', schema=None) as batch_op:
        batch_op.create_index('ix_activity_day_totals_day', ['day'], unique=False)

    for statement in (TOTALS_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else TOTALS_SQLITE):
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    for statement in (TRIGGERS_POSTGRESQL_DROP if op.get_bind().dialect.name == "postgresql" else TRIGGERS_SQLITE_DROP):
        op.execute(statement)
    with op.batch_alter_table('activity_day_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_day_totals_day')
    op.drop_table('activity_day_totals')
