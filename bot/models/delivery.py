"""The outbox: every push is a row written with the change that caused it."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
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


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))  # what it is, for operators: "org.certified", "reminder"…
    # One id for a push (user, group or room); several user ids for a multicast.
    recipients: Mapped[list[str]] = mapped_column(JSON)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Created once with the row: a retry after a timeout or crash can never deliver twice.
    retry_key: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    # Optional business key ("reminder:2026-11:member:12"): the same push is never queued twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    priority: Mapped[int] = mapped_column(default=Priority.NORMAL)
    urgent: Mapped[bool] = mapped_column(default=False)  # may be sent during quiet hours
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker leases rows with an atomic UPDATE (works on SQLite and PostgreSQL alike).
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(36), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    @property
    def cost(self) -> int:
        """Messages this row uses from the monthly quota (LINE counts recipients, not bubbles)."""
        return len(self.recipients)
