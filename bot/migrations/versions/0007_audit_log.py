"""audit log: who granted, revoked, nominated, confirmed, invited, signed in or exported

Append-only: a trigger refuses UPDATE (and DELETE on PostgreSQL); see bot/models/audit.py.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:25:05.700858
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import bot.models.base
from bot.models.audit import APPEND_ONLY_POSTGRESQL, APPEND_ONLY_SQLITE


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.Enum('grant', 'revoke', 'nominate', 'confirm', 'invite', 'invite_withdraw', 'invite_accept', 'sign_in', 'export', name='audit_action', native_enum=False, length=16), nullable=False),
    sa.Column('via', sa.Enum('chat', 'cli', 'import', 'console', 'system', name='audit_via', native_enum=False, length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('scope_kind', sa.Enum('national', 'region', 'group', 'province', name='scope_kind', native_enum=False, length=16), nullable=True),
    sa.Column('scope_code', sa.String(length=32), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['members.id'], name=op.f('fk_audit_log_actor_id_members')),
    sa.ForeignKeyConstraint(['subject_id'], ['members.id'], name=op.f('fk_audit_log_subject_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_subject_id'), ['subject_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY_POSTGRESQL:
            op.execute(statement)
    else:
        op.execute(APPEND_ONLY_SQLITE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_subject_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))

    op.drop_table('audit_log')
