"""Appointments waiting for something: a delegate seat nominated but not yet confirmed, and an
invitation for someone who has not registered yet (by phone, or by a short code read out).

The rules (who may appoint whom, seats, expiry) live in bot/appointments.py; these are its rows.
A confirmed appointment is a `RoleGrant`; neither table gives anyone a role by itself.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .members import Member, Role, ScopeKind, _enum


class SeatNomination(Base):
    """A coordinator proposed this member for a delegate seat; the secretariat confirms it (which
    gives the seat as a delegate RoleGrant and stamps `confirmed_at`). Withdrawn: the row goes."""

    __tablename__ = "seat_nominations"
    __table_args__ = (UniqueConstraint("member_id", "scope_kind", "scope_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    scope_kind: Mapped[ScopeKind] = mapped_column(_enum(ScopeKind, "scope_kind"))
    scope_code: Mapped[str] = mapped_column(String(32))
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    nominated_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    nominated_by: Mapped[Member | None] = relationship(foreign_keys=[nominated_by_id])


class Invitation(Base):
    """A role or seat for whoever registers with `phone`, or types `code` (6 characters, single use).

    Open while not accepted, not withdrawn and before `expires_at`. `confirmed` is False for a
    delegate seat a coordinator nominated: accepting it makes a nomination, not a seat.
    `claimed_by` is someone who typed the code before registering: their registration accepts it.
    `name` is what an import file called the person (personal data: erasure sweeps it).
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    scope_kind: Mapped[ScopeKind] = mapped_column(_enum(ScopeKind, "scope_kind"))
    scope_code: Mapped[str] = mapped_column(String(32), default="")
    confirmed: Mapped[bool] = mapped_column(default=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None]

    invited_by: Mapped[Member | None] = relationship(foreign_keys=[invited_by_id])
    claimed_by: Mapped[Member | None] = relationship(foreign_keys=[claimed_by_id])

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None and self.expires_at > now
