"""Meetings: what a member can attend, and coordinators' meeting notices with RSVP.

"ประชุม"/meetings lists the national assembly's sessions and the member's upcoming notices.
A coordinator (within their scope) or the secretariat writes a notice in a flow; saving makes a
draft whose preview shows the card, how many will get it, what it costs of the monthly quota and
what is left. Then: send now, or at a chosen time (a job sends it; cancellable until then).
Recipients answer เข้าร่วม / ไม่สะดวก / ยังไม่แน่ใจ; the day before, those going or not sure are reminded;
moving or cancelling a sent meeting tells them too. Names of who answered are shown only to the
notice's author, in their 1:1 chat.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from linebot.v3.messaging import Message
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import postback, thai, ui
from ..context import Context, Input
from ..delivery.quota import queued_cost
from ..flows.engine import Flow
from ..flows.steps import Choice, DateTime, LocationStep, MultiChoice, Option, Text
from ..i18n import N_, _
from ..lineport import QUOTA
from ..models import (
    AssemblySession,
    MeetingNotice,
    MeetingRecipient,
    Member,
    NoticeStatus,
    RsvpAnswer,
    StrategicIssue,
)
from ..meetings import counts, may_notify, organizer_grants, recipient_count, send_notice, tell_answered
from ..cards.meetings import ANSWERS, notice_card, notice_rows
from ..refusal import Refusal, guard
from ..router import Router
from ..scopes import Scope
from .choices import issue_options
from .menu import chip, menu_chips, menu_commands

MAX_LISTED = 5
AUDIENCE_ROLES = {"all": N_("meeting.aud_all"), "leader": N_("meeting.aud_leader"),
                  "delegate": N_("meeting.aud_delegate"), "coordinator": N_("meeting.aud_coordinator"),
                  "secretariat": N_("meeting.aud_secretariat")}



# ---- the flow ---------------------------------------------------------------------------------


def scope_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    from .groups import scope_options as binding_scopes

    member = ctx.member
    if member is None:
        return []
    return [Option(scope, label) for scope, label in binding_scopes(ctx, member)]


def role_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option(value, _(label)) for value, label in AUDIENCE_ROLES.items()]


def optional_issue_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return issue_options(ctx, answers)


def save_draft(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    """The flow's end: a draft notice and its preview (card, recipients, quota), not yet sent."""
    member = ctx.member
    scope = Scope.parse(answers["scope"])
    if not may_notify(ctx.session, member, scope):
        raise Refusal(_("meeting.not_allowed"))
    assert member is not None
    location = answers.get("location") or {}
    issue_codes = answers.get("issues") or []
    issue_ids = list(ctx.session.scalars(select(StrategicIssue.id).where(StrategicIssue.code.in_(issue_codes)))) \
        if issue_codes else []
    notice = MeetingNotice(
        title=answers["title"], starts_at=datetime.fromisoformat(answers["when"]),
        place=answers.get("place") or "", details=answers.get("details") or "",
        latitude=location.get("latitude"), longitude=location.get("longitude"),
        address=location.get("address") or None, scope_kind=scope.kind, scope_code=scope.code,
        roles=list(answers.get("roles") or ["all"]), issue_ids=issue_ids,
        status=NoticeStatus.DRAFT, send_at=ctx.now, created_by_id=member.id)
    ctx.session.add(notice)
    ctx.session.flush()
    return preview(ctx, notice)


UNLIMITED, UNKNOWN = "unlimited", "unknown"


def quota_left(ctx: Context) -> int | str:
    """Messages left this month after what is queued, or UNLIMITED / UNKNOWN (LINE did not answer)."""
    quota = ctx.line.quota()
    if quota is None:
        return UNKNOWN
    if quota.limit is None:
        return UNLIMITED
    return max(0, quota.limit - quota.used - queued_cost(ctx.session))



def preview(ctx: Context, notice: MeetingNotice) -> list[Message]:
    tz = ctx.settings.timezone
    count = recipient_count(ctx.session, notice)
    left = quota_left(ctx)
    num = lambda n: thai.format_number(n, ctx.locale)  # noqa: E731
    shown = {UNLIMITED: _("meeting.quota_unlimited"), UNKNOWN: _("meeting.quota_unknown")}
    summary = _("meeting.preview", n=num(count), cost=num(count),
                left=shown[left] if isinstance(left, str) else num(left))
    if isinstance(left, int) and count > left:  # LINE counts one message per recipient of a push
        summary += "\n" + _("meeting.quota_short")
    start = ctx.local_now.replace(second=0, microsecond=0) + timedelta(minutes=5)
    chips = [ui.Chip(_("meeting.send_now"), postback.encode(a="mtg.send", id=notice.id)),
             ui.Chip(_("meeting.schedule"), postback.encode(a="mtg.sched", id=notice.id), kind="datetime",
                     initial=start.strftime("%Y-%m-%dT%H:%M"), min=start.strftime("%Y-%m-%dT%H:%M")),
             ui.Chip(_("meeting.discard"), postback.encode(a="mtg.cancel", id=notice.id))]
    return [notice_card(notice, tz, ctx.locale), ui.text(summary, chips)]


# ---- actions (1:1) ----------------------------------------------------------------------------


def _own_notice(ctx: Context, inp: Input) -> MeetingNotice:
    notice = ctx.session.get(MeetingNotice, inp.data["id"], with_for_update=True)
    if notice is None or ctx.member is None or notice.created_by_id != ctx.member.id:
        raise Refusal(_("common.unknown_button"))  # forged: another's notice, or none at all
    if not may_notify(ctx.session, ctx.member, Scope.of(notice)):
        raise Refusal(_("meeting.not_allowed"))
    return notice


def send_now(ctx: Context, inp: Input) -> list[Message]:
    notice = _own_notice(ctx, inp)
    if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED):
        return [ui.text(_("meeting.already_sent"), menu_chips(ctx))]
    count = send_notice(ctx.session, notice, ctx.now, ctx.settings.timezone)
    return [ui.text(_("meeting.sent", n=thai.format_number(count, ctx.locale)), _manage_chips(notice))]


def _picked(ctx: Context, inp: Input) -> datetime:
    """The moment a date-time picker sent (LINE's params), read like any typed date and time."""
    at = thai.parse_datetime(inp.params.get("datetime", ""), today=ctx.today, tz=ctx.settings.timezone)
    if at is None:
        raise Refusal(_("flow.datetime_invalid"))
    return at


def schedule(ctx: Context, inp: Input) -> list[Message]:
    notice = _own_notice(ctx, inp)
    if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED):
        return [ui.text(_("meeting.already_sent"), menu_chips(ctx))]
    at = _picked(ctx, inp)
    if at <= ctx.now or at >= notice.starts_at:
        return [ui.text(_("meeting.schedule_invalid"))]
    notice.status, notice.send_at = NoticeStatus.SCHEDULED, at
    return [ui.text(_("meeting.scheduled", time=thai.format_datetime(at, ctx.locale, ctx.settings.timezone)),
                    [ui.Chip(_("meeting.cancel_notice"), postback.encode(a="mtg.cancel", id=notice.id))])]


def cancel(ctx: Context, inp: Input) -> list[Message]:
    notice = _own_notice(ctx, inp)
    if notice.status is NoticeStatus.CANCELLED:
        return [ui.text(_("meeting.cancelled_already"), menu_chips(ctx))]
    was_sent = notice.status is NoticeStatus.SENT
    notice.status, notice.cancelled_at = NoticeStatus.CANCELLED, ctx.now
    notice.revision += 1
    told = tell_answered(ctx.session, notice, ctx.now, ctx.settings.timezone, what=N_("meeting.cancelled_card"),
                         key="cancelled") if was_sent else 0
    return [ui.text(_("meeting.cancelled", n=thai.format_number(told, ctx.locale)), menu_chips(ctx))]


def move(ctx: Context, inp: Input) -> list[Message]:
    """Change the time of a sent meeting: those going or not sure hear of it."""
    notice = _own_notice(ctx, inp)
    if notice.status is not NoticeStatus.SENT:
        return [ui.text(_("meeting.not_sent"), menu_chips(ctx))]
    at = _picked(ctx, inp)
    if at <= ctx.now:
        return [ui.text(_("flow.datetime_past"))]
    notice.starts_at = at
    notice.revision += 1
    told = tell_answered(ctx.session, notice, ctx.now, ctx.settings.timezone, what=N_("meeting.changed_card"),
                         key="changed")
    return [ui.text(_("meeting.moved", n=thai.format_number(told, ctx.locale)), _manage_chips(notice))]


def rsvp(ctx: Context, inp: Input) -> list[Message]:
    member = ctx.member
    answer, notice_id = RsvpAnswer(inp.data["v"]), inp.data["id"]
    row = ctx.session.scalar(select(MeetingRecipient).where(
        MeetingRecipient.notice_id == notice_id, MeetingRecipient.member_id == member.id).with_for_update()) \
        if member else None
    notice = ctx.session.get(MeetingNotice, notice_id)
    if row is None or notice is None:
        return [ui.text(_("meeting.not_invited"), menu_chips(ctx))]
    if notice.status is NoticeStatus.CANCELLED:
        return [ui.text(_("meeting.is_cancelled", title=notice.title), menu_chips(ctx))]
    if notice.starts_at <= ctx.now:
        return [ui.text(_("meeting.is_over", title=notice.title), menu_chips(ctx))]
    if row.answer is not None and row.answer is not answer:
        row.changes += 1
    row.answer, row.answered_at = answer, ctx.now
    return [ui.text(_("meeting.answered", title=notice.title, answer=_(ANSWERS[answer][0])), menu_chips(ctx))]


# ---- commands ---------------------------------------------------------------------------------


def _manage_chips(notice: MeetingNotice) -> list[ui.Chip]:
    return [ui.Chip(_("meeting.who_chip"), postback.encode(cmd="who_goes")),
            ui.Chip(_("meeting.move"), postback.encode(a="mtg.move", id=notice.id), kind="datetime"),
            ui.Chip(_("meeting.cancel_notice"), postback.encode(a="mtg.cancel", id=notice.id))]


ORGANIZERS = guard(lambda ctx: bool(organizer_grants(ctx.member)), N_("meeting.not_allowed"))


def new_notice(ctx: Context, inp: Input) -> list[Message]:
    return ctx.flows.start(ctx, "meeting_notice")


def who_goes(ctx: Context, inp: Input) -> list[Message]:
    """For the author, in their 1:1 chat: counts and names per answer for their upcoming notices."""
    member = ctx.member
    notices = ctx.session.scalars(select(MeetingNotice).where(
        MeetingNotice.created_by_id == member.id, MeetingNotice.status == NoticeStatus.SENT,
        MeetingNotice.starts_at >= ctx.now).order_by(MeetingNotice.starts_at).limit(MAX_LISTED)).all()
    if not notices:
        return [ui.text(_("meeting.none_sent"), menu_chips(ctx))]
    messages: list[Message] = []
    for notice in notices:
        tally = counts(ctx.session, notice)
        rows = [ui.Row(_(count_label, n=tally.get(answer, 0)), _names(ctx.session, notice, answer))
                for answer, (_l, count_label) in ANSWERS.items()]
        rows.append(ui.Row(_("meeting.count_none", n=tally.get(None, 0)), ""))
        messages.append(ui.card(notice.title, notice_rows(notice, ctx.settings.timezone, ctx.locale) + rows))
    return ui.attach_chips(messages[:4] + [], _manage_chips(notices[0]))


def who_goes_in_group(ctx: Context, inp: Input) -> list[Message]:
    """Asked in a group: counts only (everyone reads a group); the names go to the 1:1 chat."""
    from .groups import actor, bound_group

    bound_group(ctx)  # the group's language
    member = actor(ctx)
    if not organizer_grants(member):
        raise Refusal(_("meeting.not_allowed"))
    notices = ctx.session.scalars(select(MeetingNotice).where(
        MeetingNotice.created_by_id == member.id, MeetingNotice.status == NoticeStatus.SENT,
        MeetingNotice.starts_at >= ctx.now).order_by(MeetingNotice.starts_at).limit(MAX_LISTED)).all()
    if not notices:
        return [ui.text(_("meeting.none_sent"))]
    lines = []
    for notice in notices:
        tally = counts(ctx.session, notice)
        lines.append(_("meeting.group_counts", title=notice.title, going=tally.get(RsvpAnswer.GOING, 0),
                       maybe=tally.get(RsvpAnswer.MAYBE, 0), not_going=tally.get(RsvpAnswer.NOT_GOING, 0)))
    return [ui.text("\n".join(lines) + "\n" + _("meeting.names_in_private"))]


def _names(session: Session, notice: MeetingNotice, answer: RsvpAnswer) -> str:
    names = session.scalars(
        select(func.coalesce(Member.full_name, Member.display_name, "-")).join(MeetingRecipient.member)
        .where(MeetingRecipient.notice_id == notice.id, MeetingRecipient.answer == answer)
        .order_by(Member.full_name).limit(60)).all()
    return ", ".join(names)


def upcoming_meetings(ctx: Context, inp: Input) -> list[Message]:
    """Assembly sessions and the member's own upcoming meeting notices (with their answer)."""
    lines = [_("meetings.line", name=s.name, date=thai.format_date(s.held_on, ctx.locale, long=True), place=s.place)
             for s in ctx.session.scalars(
                 select(AssemblySession).where(AssemblySession.held_on >= ctx.today)
                 .order_by(AssemblySession.held_on, AssemblySession.id).limit(MAX_LISTED))]
    member = ctx.member
    notices = ctx.session.execute(
        select(MeetingNotice, MeetingRecipient.answer).join(MeetingRecipient, MeetingRecipient.notice_id == MeetingNotice.id)
        .where(MeetingRecipient.member_id == member.id, MeetingNotice.status == NoticeStatus.SENT,
               MeetingNotice.starts_at >= ctx.now).order_by(MeetingNotice.starts_at).limit(MAX_LISTED)).all() \
        if member else []
    tz = ctx.settings.timezone
    for notice, answer in notices:
        lines.append(_("meeting.line", title=notice.title, time=thai.format_datetime(notice.starts_at, ctx.locale, tz),
                       answer=_(ANSWERS[answer][0]) if answer else _("meeting.no_answer")))
    # The menu, less this very list and the organizer's own chips (not the same button twice).
    chips = [chip(c) for c in menu_commands(ctx) if c not in ("meetings", "new_meeting")]
    if organizer_grants(member):
        chips = [chip("new_meeting"),
                 ui.Chip(_("meeting.who_chip"), postback.encode(cmd="who_goes"))] + chips[:11]
    if not lines:
        return [ui.text(_("meetings.none"), chips)]
    messages: list[Message] = [ui.text(_("meetings.upcoming", list="\n".join(lines)))]
    messages += [notice_card(n, tz, ctx.locale) for n, _a in notices[:3]]
    return ui.attach_chips(messages, chips)


# ---- jobs -------------------------------------------------------------------------------------


MEETING = Flow(
    "meeting_notice",
    title=N_("meeting.flow_title"),
    confirm_title=N_("meeting.confirm_title"),
    steps=[
        Text("title", N_("meeting.ask_title"), label=N_("meeting.field_title"), max_len=120),
        DateTime("when", N_("meeting.ask_when"), label=N_("meeting.when")),
        Text("place", N_("meeting.ask_place"), label=N_("meeting.where"), max_len=200, optional=True),
        LocationStep("location", N_("meeting.ask_location"), label=N_("meeting.map"), optional=True),
        Text("details", N_("meeting.ask_details"), label=N_("meeting.details"), max_len=1000, optional=True),
        Choice("scope", N_("meeting.ask_scope"), label=N_("meeting.field_scope"), options=scope_options),
        MultiChoice("roles", N_("meeting.ask_roles"), label=N_("meeting.field_roles"), options=role_options),
        MultiChoice("issues", N_("meeting.ask_issues"), label=N_("meeting.field_issues"),
                    options=optional_issue_options, min_count=0),
    ],
    on_complete=save_draft,
    needs=frozenset({QUOTA}),  # the preview says what is left of the month's quota
)


WHO_GOES_WORDS = ("ใครเข้าร่วมบ้าง", "ใครไปบ้าง", "ใครไป", "who will attend", "who is going", "who goes")


def register(router: Router) -> None:
    router.flow(MEETING)
    router.command("meetings", upcoming_meetings, ["ประชุม", "การประชุม", "meetings", "meeting"])
    router.command("new_meeting", new_notice, ["นัดประชุม", "แจ้งประชุม", "new meeting", "call a meeting"],
                   starts_flow=True, requires=ORGANIZERS)
    router.command("who_goes", who_goes, WHO_GOES_WORDS, requires=ORGANIZERS)
    router.command("group_who_goes", who_goes_in_group, WHO_GOES_WORDS,
                   group=True)
    router.action("rsvp", rsvp)
    router.action("mtg.send", send_now)
    router.action("mtg.sched", schedule)
    router.action("mtg.cancel", cancel)
    router.action("mtg.move", move)
