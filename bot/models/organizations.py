"""Community organizations and their certification by the movement."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped
from .geography import Province, StrategicIssue
from .members import Member, _enum


class OrgStatus(str, enum.Enum):
    PENDING = "pending"
    CERTIFIED = "certified"
    REJECTED = "rejected"


organization_issues = Table(
    "organization_issues",
    Base.metadata,
    Column("organization_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("issue_id", ForeignKey("strategic_issues.id"), primary_key=True),
)


class Organization(Timestamped, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_type: Mapped[str] = mapped_column(String(32))
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), index=True)
    locality: Mapped[str] = mapped_column(String(200), default="")  # subdistrict / district as typed
    member_count: Mapped[int]
    founded_year: Mapped[int | None]
    contact_phone: Mapped[str | None] = mapped_column(String(16))
    contact_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[OrgStatus] = mapped_column(_enum(OrgStatus, "org_status"), default=OrgStatus.PENDING, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

    province: Mapped[Province] = relationship()
    issues: Mapped[list[StrategicIssue]] = relationship(secondary=organization_issues, order_by=StrategicIssue.sort_order)
    contact: Mapped[Member | None] = relationship(foreign_keys=[contact_member_id])
    registered_by: Mapped[Member | None] = relationship(foreign_keys=[registered_by_id])
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])
