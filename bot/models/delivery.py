"""The outbox (every push is a row written with the change that caused it) and the worker's bookkeeping."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, LargeBinary, String, Table, Text, UniqueConstraint, Unicode
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .members import _enum


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Priority(enum.IntEnum):
    """Lower sends first. High: ballots, certification outcomes; low: reminders, digests."""

    HIGH = 10
    NORMAL = 50
    LOW = 90


def _recipient_count(context: DefaultExecutionContext) -> int:
    return len(context.get_current_parameters()["recipients"])


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))  # what it is, for operators: "org.certified", "reminder"…
    # One id for a push (user, group or room); several user ids for a multicast.
    recipients: Mapped[list[str]] = mapped_column(JSON)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Messages this row uses from the monthly quota (LINE counts recipients, not bubbles). A column,
    # not len(recipients) in Python, so the queued cost of a month is one SUM on both databases.
    # A push to a group really costs one per member; we count 1 (we don't know the member count).
    cost: Mapped[int] = mapped_column(default=_recipient_count)
    # Created once with the row: a retry after a timeout or crash can never deliver twice.
    retry_key: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    # Optional business key ("reminder:2026-11:member:12"): the same push is never queued twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    priority: Mapped[int] = mapped_column(default=Priority.NORMAL)
    urgent: Mapped[bool] = mapped_column(default=False)  # may be sent during quiet hours
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # Stamped by the caller's clock (enqueue's `now`), never a wall-clock default: see enqueue().
    next_attempt_at: Mapped[datetime]
    # A worker leases rows with an atomic UPDATE (works on SQLite and PostgreSQL alike).
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(36), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class SchedulerLease(Base):
    """Who runs the scheduler. Any number of workers send; exactly one (the holder) fires jobs.

    Taken and renewed with one atomic UPDATE ... WHERE holder = me OR expires_at < now, so two
    workers can never both believe they hold it (apart from clock skew, which the job_runs
    unique constraint covers).
    """

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """One run of a scheduled job for one fire time; the unique pair makes a double fire a no-op."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_name", "fire_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    fire_time: Mapped[datetime]  # when the schedule said it should run (UTC), or "now" for a manual run
    runner: Mapped[str] = mapped_column(String(100))  # the worker that ran it (host:pid:id)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    result: Mapped[int | None]  # what the job reported doing (rows queued, rows pruned…)
    error: Mapped[str | None] = mapped_column(Text)


# APScheduler's SQLAlchemyJobStore table, declared here with exactly its columns so the migration
# creates it, autogenerate does not propose dropping it, and test cleanup empties it. The job store
# still owns the contents (pickled job state).
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
