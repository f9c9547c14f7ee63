"""Monthly reporting reminders: who has not reported this month hears from us, once.

Selection is one SQL statement (NOT EXISTS subqueries) streamed from a read
session straight into multicast rows of 500 (enqueue_users), so a run over 100k
leaders holds neither them nor their ORM objects in memory and costs 200 LINE
requests, not 100,000. Each month's campaign has one dedupe key per language:
a re-run, or two schedulers, queue nothing twice.
"""
from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from linebot.v3.messaging import Message
from sqlalchemy import Select, and_, exists, select

from . import postback, ui
from .config import SUPPORTED_LOCALES
from .delivery import enqueue_users
from .i18n import N_, _, use_locale
from .models import ActivityReport, Member, MemberPreference, Organization, OrgStatus, Priority

if TYPE_CHECKING:
    from .services import Services
    from .jobs import JobRegistry

log = logging.getLogger(__name__)

BATCH = 1000  # leaders per read partition and per write transaction
REMINDER_DAY = 25  # of the month, 09:00 local
NUDGE_DAYS_LEFT = 3  # the nudge goes out when this many days of the month remain, today included
SEND_HOUR = 9


def month_bounds(day: date) -> tuple[date, date]:
    """The calendar month containing `day` as [first day, first day of next month)."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def is_nudge_day(day: date) -> bool:
    """28 Nov (28, 29, 30 left), 26 Feb in a common year: always after the 25th's reminder."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == last - NUDGE_DAYS_LEFT + 1


def silent_leaders(month: tuple[date, date]) -> Select[tuple[int, str, str]]:
    """Leaders with a certified organization that has no report dated in `month`.

    Only active, not erased members who have not paused reminders. One row per
    leader however many organizations.
    """
    start, end = month
    reported = exists().where(
        ActivityReport.organization_id == Organization.id,
        ActivityReport.withdrawn_at.is_(None),
        ActivityReport.activity_date >= start,
        ActivityReport.activity_date < end,
    )
    silent_org = exists().where(
        Organization.status == OrgStatus.CERTIFIED,
        (Organization.registered_by_id == Member.id) | (Organization.contact_member_id == Member.id),
        ~reported,
    )
    paused = exists().where(MemberPreference.member_id == Member.id,
                            MemberPreference.reminders_paused_at.is_not(None))
    return (
        select(Member.id, Member.line_user_id, Member.locale)
        .where(and_(Member.active.is_(True), Member.erased_at.is_(None), Member.registered_at.is_not(None)),
               silent_org, ~paused)
        .order_by(Member.id)
    )


def _reminder_message(key: str) -> list[Message]:
    return [ui.text(_(key), [
        ui.Chip(_("menu.report"), postback.encode(cmd="report")),
        ui.Chip(_("reminder.stop"), postback.encode(cmd="stop_reminders")),
    ])]


def _user_ids(services: Services, query: Select[Any], counter: list[int]) -> Iterator[str]:
    """Stream the selected leaders' LINE ids from a read session, counting them as they go."""
    with services.session_factory() as reader:
        for (line_user_id,) in reader.execute(query.execution_options(yield_per=BATCH)):
            counter[0] += 1
            yield line_user_id


def _remind(services: Services, now: datetime, *, kind: str, message_key: str) -> int:
    """One campaign per language: the silent leaders streamed into multicasts of 500.

    The campaign's dedupe key (kind, month, language) makes a re-run queue nothing, and the
    whole campaign is written in one transaction, so a crash half way leaves nothing to skip.
    """
    local_day = now.astimezone(services.settings.timezone).date()
    month = month_bounds(local_day)
    leaders = silent_leaders(month).subquery()
    queued = 0
    with services.session_factory() as writer, writer.begin():
        for locale in SUPPORTED_LOCALES:
            with use_locale(locale):
                message = _reminder_message(message_key)
            counter = [0]
            query = select(leaders.c.line_user_id).where(leaders.c.locale == locale).order_by(leaders.c.id)
            rows = enqueue_users(writer, _user_ids(services, query, counter), message, now=now,
                                 kind=f"report.{kind}",
                                 priority=Priority.LOW, dedupe_key=f"{kind}:{local_day:%Y-%m}:{locale}")
            queued += counter[0] if rows else 0
    log.info("%s for %s: %d leaders queued", kind, f"{local_day:%Y-%m}", queued)
    return queued


def monthly_reminder(services: Services, now: datetime) -> int:
    """Queue this month's reminder for every silent leader; returns how many were queued."""
    return _remind(services, now, kind="reminder", message_key=N_("reminder.monthly"))


def second_nudge(services: Services, now: datetime) -> int:
    """Near the month's end, a last nudge to leaders still silent (same selection, evaluated now)."""
    return _remind(services, now, kind="nudge", message_key=N_("reminder.nudge"))


def _nudge_if_due(services: Services, now: datetime) -> int:
    """Cron cannot say "3 days before the end of the month", so it fires on every candidate day."""
    if not is_nudge_day(now.astimezone(services.settings.timezone).date()):
        return 0
    return second_nudge(services, now)


def register_jobs(registry: JobRegistry) -> None:
    # Imported here: the webhook process (which imports month_bounds) has no use for the
    # scheduler, whose module loads APScheduler.
    from .jobs import JobSpec

    # Cron fields are read in settings.timezone (Bangkok) by the registry; the job gets its fire
    # time as `now`, so a run caught up after midnight still counts the month it was meant for.
    registry.add(JobSpec("report_reminder", monthly_reminder, {"day": REMINDER_DAY, "hour": SEND_HOUR, "minute": 0},
                         "25th 09:00: remind leaders whose certified organizations have not reported this month"))
    registry.add(JobSpec("report_nudge", _nudge_if_due, {"day": "26-29", "hour": SEND_HOUR, "minute": 0},
                         "3 days before month end, 09:00: nudge leaders still without a report this month"))
