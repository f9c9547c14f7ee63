"""Activity reports (รายงานกิจกรรม), their photos, and a member's reminder preference."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ColumnElement, Date, ForeignKey, Index, Numeric, String, Text, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .geography import StrategicIssue
from .members import Member, _enum
from .organizations import Organization, OrgStatus


def reporting_orgs(member_id: int) -> ColumnElement[bool]:
    """Organizations a member may report for: registered by them or with them as the contact.

    Rejected organizations are not the movement's, so they do not report; pending
    ones may (work goes on while certification is decided).
    """
    return (or_(Organization.registered_by_id == member_id, Organization.contact_member_id == member_id)
            & (Organization.status != OrgStatus.REJECTED))


class ActivityType(str, enum.Enum):
    """What kind of activity was held; handlers/reports.py maps each to its catalog label."""

    MEETING = "meeting"
    TRAINING = "training"
    SAVINGS = "savings"
    HOUSING = "housing"
    WELFARE_FUND = "welfare_fund"
    LAND = "land"
    ENTERPRISE = "enterprise"
    DISASTER = "disaster"
    OTHER = "other"


class BudgetSource(str, enum.Enum):
    """Who paid; handlers/reports.py maps each to its catalog label."""

    COMMUNITY_FUND = "community_fund"
    CODI = "codi"
    LOCAL_GOVERNMENT = "local_gov"
    OTHER = "other"


class PhotoStatus(str, enum.Enum):
    STORED = "stored"
    # LINE no longer had the content (404/410) or the download failed: the report still
    # counts, and the row says a photo was sent so nobody thinks it was never taken.
    MISSING = "missing"


class ActivityReport(Timestamped, Base):
    __tablename__ = "activity_reports"
    __table_args__ = (
        # "Has this organization reported this month?" is asked for every certified
        # organization by the monthly reminder; this index answers it without a scan.
        Index("ix_activity_reports_org_date", "organization_id", "activity_date"),
        CheckConstraint("participants >= 0", name="participants_not_negative"),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 active_history=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    activity_type: Mapped[ActivityType] = mapped_column(_enum(ActivityType, "activity_type"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("strategic_issues.id"), active_history=True)
    activity_date: Mapped[date] = mapped_column(Date)  # the Bangkok calendar day it happened
    participants: Mapped[int] = mapped_column(active_history=True)
    description: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(200))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), active_history=True)
    budget_source: Mapped[BudgetSource | None] = mapped_column(_enum(BudgetSource, "budget_source"))
    # Withdrawn reports are kept (audit, counts over time) but no longer count as reported.
    # The counted columns keep their old value on change (active_history): the daily rollups
    # (bot/models/rollups.py) move a changed report's old contribution out.
    withdrawn_at: Mapped[datetime | None] = mapped_column(active_history=True)

    organization: Mapped[Organization] = relationship()
    author: Mapped[Member] = relationship()
    issue: Mapped[StrategicIssue | None] = relationship()
    photos: Mapped[list[ReportPhoto]] = relationship(back_populates="report", order_by="ReportPhoto.id")


class ReportPhoto(Base):
    """A photo sent while reporting.

    Photos arrive before the report exists, so a row starts with `report_id` NULL,
    owned by the member who sent it, and is linked when the report is saved.
    Rows left unlinked (a cancelled report) are orphans a cleanup job may delete.
    """

    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("activity_reports.id", ondelete="SET NULL"),
                                                  index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    line_message_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[PhotoStatus] = mapped_column(_enum(PhotoStatus, "photo_status"))
    path: Mapped[str | None] = mapped_column(String(300))  # its key in the media store (bot.media)
    content_type: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(100))  # why it is missing, for operators
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[ActivityReport | None] = relationship(back_populates="photos")


class MemberPreference(Base):
    """Per-member settings that are not part of the person's identity (kept out of `members`)."""

    __tablename__ = "member_preferences"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    reminders_paused_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
