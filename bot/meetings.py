"""Meetings: who may call one, who receives a notice, sending it, reminders and changes.

The rules of meeting notices, apart from the conversation that writes one
(bot/handlers/meetings.py) and the card people see (bot/cards/meetings.py). A notice's audience
is fixed when it is sent and recorded (MeetingRecipient); answers are counted from there. Sending,
the day-before reminder and change/cancel notices go through the outbox, one multicast campaign per
language, with dedupe keys per notice and revision.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from . import scopes
from .cards.meetings import notice_card, notice_messages
from .delivery import enqueue_users
from .i18n import N_, _, use_locale
from .models import (
    MeetingNotice,
    MeetingRecipient,
    Member,
    NoticeStatus,
    Organization,
    Priority,
    Role,
    RoleGrant,
    RsvpAnswer,
    organization_issues,
)
from .scopes import Scope

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from .jobs import JobRegistry
    from .services import Services

NOTICE_ROLES = (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)
REMINDER_HOUR = 9  # the day before, 09:00 Bangkok


def organizer_grants(member: Member | None) -> list[RoleGrant]:
    if member is None or not member.is_registered or not member.active:
        return []
    return [g for g in member.roles if g.role in NOTICE_ROLES]


def may_notify(session: Session, member: Member | None, scope: Scope) -> bool:
    """May this member send a meeting notice to this scope (a coordinator inside it, the secretariat…)?"""
    place = scopes.place_of(session, scope)
    return place is not None and any(scopes.contains(Scope.of(g), place) for g in organizer_grants(member))


def audience(session: Session, notice: MeetingNotice) -> Any:
    """The recipients of a notice as one SELECT of (member id, LINE id, locale)."""
    query = select(Member.id, Member.line_user_id, Member.locale).where(
        Member.active.is_(True), Member.erased_at.is_(None), Member.registered_at.is_not(None),
        scopes.in_scope(Member.province_id, Scope.of(notice)))
    if notice.created_by_id is not None:
        query = query.where(Member.id != notice.created_by_id)
    leads = or_(Organization.registered_by_id == Member.id, Organization.contact_member_id == Member.id)
    roles = [r for r in notice.roles if r != "all"]
    if roles and "all" not in notice.roles:
        wanted = [Role(r) for r in roles if r != "leader"]
        clauses = [exists().where(RoleGrant.member_id == Member.id, RoleGrant.role.in_(wanted))] if wanted else []
        if "leader" in roles:
            clauses += [exists().where(leads), exists().where(RoleGrant.member_id == Member.id,
                                                                RoleGrant.role == Role.LEADER)]
        query = query.where(or_(*clauses))
    if notice.issue_ids:
        query = query.where(exists().where(
            leads, organization_issues.c.organization_id == Organization.id,
            organization_issues.c.issue_id.in_(notice.issue_ids)))
    return query.order_by(Member.id)


def recipient_count(session: Session, notice: MeetingNotice) -> int:
    return int(session.scalar(select(func.count()).select_from(audience(session, notice).subquery())) or 0)


def _by_locale(rows: Iterable[tuple[int, str, str]]) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for member_id, line_id, locale in rows:
        out.setdefault(locale or "th", []).append((member_id, line_id))
    return out


def send_notice(session: Session, notice: MeetingNotice, now: datetime, tz: ZoneInfo) -> int:
    """Fix the audience, record it, and queue the card in each recipient's language."""
    recipients = session.execute(audience(session, notice)).all()
    session.add_all(MeetingRecipient(notice_id=notice.id, member_id=member_id) for member_id, _l, _c in recipients)
    notice.status, notice.sent_at, notice.recipient_count = NoticeStatus.SENT, now, len(recipients)
    session.flush()
    for locale, people in sorted(_by_locale(recipients).items()):
        with use_locale(locale):
            enqueue_users(session, (line_id for _id, line_id in people), notice_messages(notice, tz, locale),
                          now=now, kind="meeting.notice", priority=Priority.NORMAL,
                          dedupe_key=f"meeting:{notice.id}:notice:{locale}")
    return len(recipients)


def _answered(session: Session, notice: MeetingNotice) -> list[tuple[int, str, str]]:
    return session.execute(
        select(Member.id, Member.line_user_id, Member.locale).join(MeetingRecipient.member)
        .where(MeetingRecipient.notice_id == notice.id,
               MeetingRecipient.answer.in_([RsvpAnswer.GOING, RsvpAnswer.MAYBE]),
               Member.active.is_(True), Member.erased_at.is_(None)).order_by(Member.id)).all()


def tell_answered(session: Session, notice: MeetingNotice, now: datetime, tz: ZoneInfo, *, what: str,
                  key: str) -> int:
    """Queue a card (reminder, change, cancellation) to those who said going or not sure."""
    people = _answered(session, notice)
    for locale, rows in sorted(_by_locale(people).items()):
        with use_locale(locale):
            heading = _(what, title=notice.title)
            card = notice_card(notice, tz, locale, with_answers=what != N_("meeting.cancelled_card"),
                               heading=heading)
            enqueue_users(session, (line_id for _id, line_id in rows), [card], now=now, kind=f"meeting.{key}",
                          priority=Priority.HIGH if key != "reminder" else Priority.NORMAL,
                          dedupe_key=f"meeting:{notice.id}:r{notice.revision}:{key}:{locale}")
    return len(people)


def counts(session: Session, notice: MeetingNotice) -> dict[RsvpAnswer | None, int]:
    return {answer: int(n) for answer, n in session.execute(
        select(MeetingRecipient.answer, func.count(MeetingRecipient.id))
        .where(MeetingRecipient.notice_id == notice.id).group_by(MeetingRecipient.answer))}


def send_due(services: Services, now: datetime) -> int:
    """Send scheduled notices whose time has come (each in its own transaction)."""
    sent = 0
    with services.session_factory() as reader:
        due = list(reader.scalars(select(MeetingNotice.id).where(
            MeetingNotice.status == NoticeStatus.SCHEDULED, MeetingNotice.send_at <= now)))
    for notice_id in due:
        with services.session_factory() as session, session.begin():
            notice = session.get(MeetingNotice, notice_id, with_for_update=True)
            if notice is not None and notice.status is NoticeStatus.SCHEDULED:
                send_notice(session, notice, now, services.settings.timezone)
                sent += 1
    return sent


def remind_tomorrow(services: Services, now: datetime) -> int:
    """The day before a meeting: those going or not sure get a reminder (once per revision)."""
    tz = services.settings.timezone
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=tz)
    told = 0
    with services.session_factory() as session, session.begin():
        for notice in session.scalars(select(MeetingNotice).where(
                MeetingNotice.status == NoticeStatus.SENT, MeetingNotice.starts_at >= start,
                MeetingNotice.starts_at < start + timedelta(days=1))):
            told += tell_answered(session, notice, now, tz, what=N_("meeting.reminder_card"), key="reminder")
    return told


def register_jobs(registry: JobRegistry) -> None:
    from .jobs import JobSpec

    registry.add(JobSpec("meeting_send_due", send_due, {"minute": "*"},
                         "every minute: send meeting notices scheduled for now"))
    registry.add(JobSpec("meeting_reminder", remind_tomorrow, {"hour": REMINDER_HOUR, "minute": 0},
                         "09:00: remind those going or not sure of tomorrow's meetings"))
