"""Conversation state and webhook bookkeeping."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ConversationState(Base):
    """Where one member is in one flow.

    Step *names* are stored (never positions), so reordering a flow does not
    corrupt saved conversations. `history` is a stack of {step, answers} so
    "back" restores the earlier answer too. Committed with the domain change.
    """

    __tablename__ = "conversation_states"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Scratch space for the current step (e.g. which region a province picker shows).
    view: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ProcessedEvent(Base):
    """One row per webhook event handled; the primary key makes redelivery a no-op."""

    __tablename__ = "processed_events"

    webhook_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(32))
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
