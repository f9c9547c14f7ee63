"""Activity reports: which organizations a leader reports for, changing a report, its photos, counts.

The rules of reporting, apart from the conversation that writes a report (bot/handlers/reports.py)
and the monthly reminders (bot/reminders.py). An author may correct or withdraw their own report
for CHANGE_WINDOW after sending it; a photo only ever joins its own author's report.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import Enum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .i18n import N_
from .models import ActivityReport, ActivityType, BudgetSource, Member, Organization, ReportPhoto
from .models.reports import reporting_orgs
from .reminders import month_bounds

# The catalog label of each activity type and budget source (the chat's choices, the exports' cells).
ACTIVITY_LABELS = {
    ActivityType.MEETING: N_("activity.meeting"),
    ActivityType.TRAINING: N_("activity.training"),
    ActivityType.SAVINGS: N_("activity.savings"),
    ActivityType.HOUSING: N_("activity.housing"),
    ActivityType.WELFARE_FUND: N_("activity.welfare_fund"),
    ActivityType.LAND: N_("activity.land"),
    ActivityType.ENTERPRISE: N_("activity.enterprise"),
    ActivityType.DISASTER: N_("activity.disaster"),
    ActivityType.OTHER: N_("activity.other"),
}
BUDGET_SOURCE_LABELS = {
    BudgetSource.COMMUNITY_FUND: N_("budget_source.community_fund"),
    BudgetSource.CODI: N_("budget_source.codi"),
    BudgetSource.LOCAL_GOVERNMENT: N_("budget_source.local_gov"),
    BudgetSource.OTHER: N_("budget_source.other"),
}

CHANGE_WINDOW = timedelta(days=7)  # an author may correct or withdraw a report this long after sending it


class Unchangeable(str, Enum):
    """Why a member may not change a report now."""

    NOT_YOURS = "not_yours"  # none, or someone else's
    WITHDRAWN = "withdrawn"
    TOO_OLD = "too_old"  # past CHANGE_WINDOW


def why_not_change(member: Member | None, report: ActivityReport | None, now: datetime) -> Unchangeable | None:
    """Checked on every action on a report and again when a correction is saved."""
    if report is None or member is None or report.author_id != member.id:
        return Unchangeable.NOT_YOURS
    if report.withdrawn_at is not None:
        return Unchangeable.WITHDRAWN
    if now - report.created_at > CHANGE_WINDOW:
        return Unchangeable.TOO_OLD
    return None


def reporting_org(session: Session, member: Member, org_id: object) -> Organization | None:
    """The organization, if this member reports for it (registered it or is its contact)."""
    if org_id is None or not str(org_id).isdigit():
        return None
    return session.scalar(select(Organization).where(Organization.id == int(str(org_id)),
                                                     reporting_orgs(member.id)))


def link_photos(session: Session, member: Member, report: ActivityReport, photo_ids: Sequence[int]) -> None:
    """Attach the member's own stored photos to the report, and unlink those a correction dropped."""
    wanted = list(photo_ids)
    # Only this member's photos that are free or already this report's: answers are server-side,
    # but a photo must never move from someone else's report.
    if wanted:
        session.execute(
            update(ReportPhoto)
            .where(ReportPhoto.id.in_(wanted), ReportPhoto.member_id == member.id,
                   ReportPhoto.report_id.is_(None) | (ReportPhoto.report_id == report.id))
            .values(report_id=report.id)
            .execution_options(synchronize_session=False))
    # A correction that dropped photos unlinks them; the orphan cleanup removes the files.
    session.execute(
        update(ReportPhoto)
        .where(ReportPhoto.report_id == report.id, ReportPhoto.id.not_in(wanted or [0]))
        .values(report_id=None)
        .execution_options(synchronize_session=False))


def reports_this_month(session: Session, org_id: int, today: date) -> int:
    """Reports count in the month the activity happened (the monthly reminder uses the same rule)."""
    start, end = month_bounds(today)
    return session.scalar(
        select(func.count(ActivityReport.id)).where(
            ActivityReport.organization_id == org_id, ActivityReport.withdrawn_at.is_(None),
            ActivityReport.activity_date >= start, ActivityReport.activity_date < end)) or 0
