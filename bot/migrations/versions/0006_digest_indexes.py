"""digest indexes: the period's live reports covered, organizations by creation and pending

The national digest's aggregates read every report of the period from the heap (a bitmap heap
scan of ~100,000 rows a day at a million reports) and joined all 80,000 organizations; new and
pending organizations were counted by a sequential scan. See bot/models/groups.py.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 12:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

LIVE = sa.text("withdrawn_at IS NULL")
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.create_index('ix_activity_reports_live_created',
                              ['created_at', 'organization_id', 'issue_id', 'participants', 'budget'],
                              unique=False, postgresql_where=LIVE, sqlite_where=LIVE)
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index('ix_organizations_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_organizations_pending_created', ['created_at', 'id'], unique=False,
                              postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index('ix_organizations_pending_created')
        batch_op.drop_index('ix_organizations_created_at')
    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_reports_live_created')
