"""Coordinators' meeting notices and the answers (RSVP) of those invited."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .members import Member, ScopeKind, _enum


class NoticeStatus(str, enum.Enum):
    DRAFT = "draft"  # previewed by its author, not sent
    SCHEDULED = "scheduled"  # waiting for send_at
    SENT = "sent"
    CANCELLED = "cancelled"


class RsvpAnswer(str, enum.Enum):
    GOING = "going"
    NOT_GOING = "not_going"
    MAYBE = "maybe"


class MeetingNotice(Timestamped, Base):
    __tablename__ = "meeting_notices"
    __table_args__ = (Index("ix_meeting_notices_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    scope_kind: Mapped[ScopeKind] = mapped_column(_enum(ScopeKind, "scope_kind"))
    scope_code: Mapped[str] = mapped_column(String(32), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every registered member
    issue_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: any issue
    status: Mapped[NoticeStatus] = mapped_column(_enum(NoticeStatus, "notice_status"))
    send_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(default=0)  # bumps on every change; part of dedupe keys
    recipient_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)

    created_by: Mapped[Member | None] = relationship()


class MeetingRecipient(Base):
    """Who a sent notice went to (the audience is fixed at sending) and their answer, if any."""

    __tablename__ = "meeting_recipients"
    __table_args__ = (UniqueConstraint("notice_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("meeting_notices.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    answer: Mapped[RsvpAnswer | None] = mapped_column(_enum(RsvpAnswer, "rsvp_answer"))
    answered_at: Mapped[datetime | None]
    changes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
