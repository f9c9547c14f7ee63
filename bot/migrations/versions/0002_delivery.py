"""delivery: outbox cost, scheduler lease, job runs, APScheduler job store

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        # Server default only to fill existing rows; the application always sets it.
        batch_op.add_column(sa.Column("cost", sa.Integer(), nullable=False, server_default="1"))
    # json_array_length exists under this name on both SQLite (JSON1) and PostgreSQL (json type).
    op.execute("UPDATE outbox_messages SET cost = json_array_length(recipients)")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("cost", server_default=None)

    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(length=64), nullable=False),
        sa.Column("fire_time", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("runner", sa.String(length=100), nullable=False),
        sa.Column("started_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job_name", "fire_time", name=op.f("uq_job_runs_job_name_fire_time")),
    )
    # The same shape APScheduler's SQLAlchemyJobStore would create (it then finds it and skips creating).
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))
    op.drop_table("apscheduler_jobs")
    op.drop_table("job_runs")
    op.drop_table("scheduler_leases")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("cost")
