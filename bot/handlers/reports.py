"""Activity reports (รายงานกิจกรรม): report, review my reports, correct or withdraw, pause reminders."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from linebot.v3.messaging import Message
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import postback, reports, thai, ui
from ..context import Context, Input
from ..flows.engine import AUTO, Flow
from ..flows.photo_step import Photos
from ..flows.steps import (
    Amount,
    Answer,
    Choice,
    DateStep,
    LocationStep,
    Number,
    Option,
    Outcome,
    Redraw,
    Retry,
    StepView,
    Text,
)
from ..i18n import N_, _, current_locale, use_locale
from ..photos import store_report_photo
from ..models import (
    ActivityReport,
    ActivityType,
    BudgetSource,
    MemberPreference,
    Organization,
    PhotoStatus,
    StrategicIssue,
)
from ..models.reports import reporting_orgs
from ..refusal import Refusal, registered
from ..reports import ACTIVITY_LABELS, BUDGET_SOURCE_LABELS, CHANGE_WINDOW, Unchangeable
from ..router import Router
from .menu import menu_chips

MAX_PHOTOS = 5
MY_REPORTS_SHOWN = 5
MAX_PAST_DAYS = 366  # older dates are almost always a mistyped year


# ---- options ------------------------------------------------------------------------


def _both_languages(key: str) -> tuple[str, str]:
    """A catalog entry in Thai and English, so either can be typed whatever the reader's language."""
    with use_locale("th"):
        th = _(key)
    with use_locale("en"):
        en = _(key)
    return th, en


def _my_orgs(ctx: Context) -> list[Organization]:
    assert ctx.member is not None
    return list(ctx.session.scalars(
        select(Organization).where(reporting_orgs(ctx.member.id)).order_by(Organization.name, Organization.id)))


def org_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option(str(o.id), o.name) for o in _my_orgs(ctx)]


def _single_org(ctx: Context, answers: dict[str, Any]) -> bool:
    # The organization is preset when the flow starts with only one to choose from.
    return answers.get("org") is not None and len(_my_orgs(ctx)) == 1


def activity_type_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option(t.value, _(key), _both_languages(key)) for t, key in ACTIVITY_LABELS.items()]


def _org_of(ctx: Context, answers: dict[str, Any]) -> Organization | None:
    raw_org = answers.get("org")
    return ctx.session.get(Organization, int(raw_org)) if raw_org and str(raw_org).isdigit() else None


def issue_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    """All strategic issues, the organization's own first: most reports are about those."""
    locale = current_locale()
    issues = list(ctx.session.scalars(select(StrategicIssue).order_by(StrategicIssue.sort_order)))
    org = _org_of(ctx, answers)
    own = {i.id for i in org.issues} if org is not None else set()
    issues.sort(key=lambda i: i.id not in own)  # stable: keeps sort_order within each part
    return [Option(i.code, i.label(locale), (i.name_th, i.name_en, i.short_th, i.short_en)) for i in issues]


def own_issue(ctx: Context, answers: dict[str, Any]) -> str | None:
    """The organization's own strategic issue (its first, in the movement's order): what most of
    its reports are about, so it is not asked; it shows on the card, where it can be changed."""
    org = _org_of(ctx, answers)
    if org is None or not org.issues:
        return None
    return min(org.issues, key=lambda i: i.sort_order).code


def _today(ctx: Context, answers: dict[str, Any]) -> str:
    return ctx.today.isoformat()


class ActivityKind(Choice):
    """What kind of activity, with the day and the issue it is filed under already filled in:
    the question says both, a date chip picks another day (a typed date works too), and the
    issue changes on the card. One question where there were three."""

    def question(self, ctx: Context, sv: StepView) -> str:
        asked = super().question(ctx, sv)
        if sv.view.get("candidates"):
            return asked
        day = sv.answers.get("activity_date") or ctx.today.isoformat()
        issue = sv.answers.get("issue")
        shown = ACTIVITY_DATE.show(ctx, day)
        lines = [_("report.day_today", date=shown) if day == ctx.today.isoformat() else _("report.day_is", date=shown)]
        if issue:
            lines.append(_("report.issue_is", issue=ISSUE.show(ctx, issue)))
        return "\n".join([asked, *lines, _("report.change_hint")])

    def chips(self, ctx: Context, sv: StepView) -> list[ui.Chip]:
        today = ctx.today
        return [*super().chips(ctx, sv),
                ui.Chip(_("report.other_day"), sv.data(), kind="date",
                        initial=sv.answers.get("activity_date") or today.isoformat(), max=today.isoformat(),
                        min=(today - timedelta(days=MAX_PAST_DAYS)).isoformat())]

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if inp.kind == "postback" and "date" in inp.params:
            return self._set_day(ctx, sv, ACTIVITY_DATE.parse_value(ctx, sv, inp.params["date"]))
        return super().accept(ctx, sv, inp)

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        outcome = super().parse_text(ctx, sv, value)
        if isinstance(outcome, Retry) and thai.parse_date(value, today=ctx.today) is not None:
            return self._set_day(ctx, sv, ACTIVITY_DATE.parse_text(ctx, sv, value))  # "เมื่อวาน" typed here
        return outcome

    @staticmethod
    def _set_day(ctx: Context, sv: StepView, outcome: Outcome) -> Outcome:
        if not isinstance(outcome, Answer):
            return outcome
        # The day belongs to the date step: it is now the person's answer, not the default.
        sv.answers["activity_date"] = outcome.value
        sv.answers[AUTO] = [n for n in sv.answers.get(AUTO, []) if n != "activity_date"]
        return Redraw(_("report.day_set", date=ACTIVITY_DATE.show(ctx, outcome.value)))


def budget_source_options(ctx: Context, answers: dict[str, Any]) -> list[Option]:
    return [Option(s.value, _(key), _both_languages(key)) for s, key in BUDGET_SOURCE_LABELS.items()]


def last_budget_source(ctx: Context, answers: dict[str, Any]) -> str | None:
    """Where the organization's money came from last time: most groups spend from the same
    place month after month, so it is not asked again (it shows on the card, where it changes)."""
    org = _org_of(ctx, answers)
    if org is None:
        return None
    source = ctx.session.scalar(
        select(ActivityReport.budget_source)
        .where(ActivityReport.organization_id == org.id, ActivityReport.withdrawn_at.is_(None),
               ActivityReport.budget_source.is_not(None))
        .order_by(ActivityReport.created_at.desc(), ActivityReport.id.desc()).limit(1))
    return source.value if source is not None else None


def _no_budget(ctx: Context, answers: dict[str, Any]) -> bool:
    budget = answers.get("budget")
    return budget is None or Decimal(budget) == 0


# ---- saving ---------------------------------------------------------------------------


UNCHANGEABLE = {Unchangeable.NOT_YOURS: N_("report.not_yours"), Unchangeable.WITHDRAWN: N_("report.already_withdrawn"),
                Unchangeable.TOO_OLD: N_("report.too_old")}


def _check_may_change(ctx: Context, report: ActivityReport | None) -> ActivityReport:
    """The report, if this member may still change it (else Refusal). Checked on every action and on save."""
    why = reports.why_not_change(ctx.member, report, ctx.now)
    if why is not None:
        raise Refusal(_(UNCHANGEABLE[why], days=CHANGE_WINDOW.days))
    assert report is not None
    return report


def _save_report(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    member = ctx.member
    assert member is not None
    org = reports.reporting_org(ctx.session, member, answers.get("org"))
    if org is None:
        raise Refusal(_("report.org_not_allowed"))
    correcting = answers.get("report_id") is not None
    if correcting:
        report = _check_may_change(
            ctx, ctx.session.get(ActivityReport, int(answers["report_id"]), with_for_update=True))
    else:
        report = ActivityReport(author_id=member.id)  # added once filled in: queries below autoflush

    budget = None if answers.get("budget") is None else Decimal(answers["budget"])
    source = answers.get("budget_source") if budget else None
    if budget and source is None:
        # The engine asks for the source whenever a budget is given; this guards the
        # invariant anyway (a budget is never saved without its source).
        raise Refusal(_("report.need_budget_source"), end_flow=False)
    issue = ctx.session.scalar(select(StrategicIssue).where(StrategicIssue.code == answers.get("issue")))
    location = answers.get("location") or {}

    report.organization_id = org.id
    report.activity_type = ActivityType(answers["activity_type"])
    report.issue_id = issue.id if issue else None
    report.activity_date = date.fromisoformat(answers["activity_date"])
    report.participants = int(answers["participants"])
    report.description = answers["description"]
    report.latitude = location.get("latitude")
    report.longitude = location.get("longitude")
    report.address = (location.get("address") or location.get("title") or None) if location else None
    report.budget = budget
    report.budget_source = BudgetSource(source) if source else None
    ctx.session.add(report)
    ctx.session.flush()
    reports.link_photos(ctx.session, member, report, [int(p["id"]) for p in answers.get("photos") or []])

    count = reports.reports_this_month(ctx.session, org.id, ctx.today)
    key = N_("report.corrected") if correcting else N_("report.saved")
    return [ui.text(_(key, name=org.name, n=thai.format_number(count, ctx.locale)), menu_chips(ctx))]


# The issue is the organization's own unless no organization has one (then it is asked); the day
# is today unless the person picks another at the activity question. Both change on the card.
ISSUE = Choice("issue", N_("report.ask_issue"), label=N_("field.issue"), options=issue_options, default=own_issue)
ACTIVITY_DATE = DateStep("activity_date", N_("report.ask_date"), label=N_("field.activity_date"),
                         max_past_days=MAX_PAST_DAYS, default=_today)

REPORT = Flow(
    "report",
    title=N_("report.title"),
    edit_title=N_("report.edit_title"),
    confirm_title=N_("report.confirm_title"),
    steps=[
        Choice("org", N_("report.ask_org"), label=N_("field.organization"), options=org_options,
               skip_if=_single_org),
        ISSUE,
        ActivityKind("activity_type", N_("report.ask_type"), label=N_("field.activity_type"),
                     options=activity_type_options),
        ACTIVITY_DATE,
        Number("participants", N_("report.ask_participants"), label=N_("field.participants"), min_value=1,
               max_value=100_000, suggestions=(10, 20, 30, 50, 100)),
        Text("description", N_("report.ask_description"), label=N_("field.description"), min_len=3,
             max_len=1000),
        Photos("photos", N_("report.ask_photos"), label=N_("field.photos"), store=store_report_photo,
               max_photos=MAX_PHOTOS),
        # Offered on the card ("ส่งตำแหน่ง"), never asked on the way.
        LocationStep("location", N_("report.ask_location"), label=N_("field.location"), optional=True, ask=False),
        Amount("budget", N_("report.ask_budget"), label=N_("field.budget"), optional=True,
               skip_label=N_("report.no_budget")),
        Choice("budget_source", N_("report.ask_budget_source"), label=N_("field.budget_source"),
               options=budget_source_options, skip_if=_no_budget, default=last_budget_source),
    ],
    on_complete=_save_report,
)


# ---- commands and actions --------------------------------------------------------------


def start_report(ctx: Context, inp: Input) -> list[Message]:
    orgs = _my_orgs(ctx)
    if not orgs:
        return [ui.text(_("report.no_org"), menu_chips(ctx))]  # the menu offers "register an org"
    if len(orgs) == 1:
        return ctx.flows.start(ctx, "report", answers={"org": str(orgs[0].id)},
                               intro=_("report.intro_single", name=orgs[0].name))
    return ctx.flows.start(ctx, "report")


def _report_rows(report: ActivityReport, locale: str) -> list[ui.Row]:
    stored = sum(1 for p in report.photos if p.status is PhotoStatus.STORED)
    return [
        ui.Row(_("field.activity_type"), _(ACTIVITY_LABELS[report.activity_type])),
        ui.Row(_("field.activity_date"), thai.format_date(report.activity_date, locale)),
        ui.Row(_("field.participants"), thai.format_number(report.participants, locale)),
        ui.Row(_("field.description"), thai.truncate(report.description, 80)),
        ui.Row(_("field.photos"), _("photos.count", n=stored) if report.photos else _("photos.none_given")),
    ]


def _report_bubble(ctx: Context, report: ActivityReport):
    deadline = report.created_at + CHANGE_WINDOW
    if ctx.now < deadline:
        day = thai.format_date(deadline.astimezone(ctx.settings.timezone).date(), ctx.locale)
        note = _("report.change_until", date=day)
        buttons = [ui.button(_("report.edit"), postback.encode(a="report.edit", id=report.id), style="primary"),
                   ui.button(_("report.withdraw"), postback.encode(a="report.withdraw", id=report.id))]
    else:
        note, buttons = _("report.change_closed", days=CHANGE_WINDOW.days), []
    return ui.card(report.organization.name, _report_rows(report, ctx.locale), note=note, buttons=buttons).contents


def my_reports(ctx: Context, inp: Input) -> list[Message]:
    assert ctx.member is not None
    reports = ctx.session.scalars(
        select(ActivityReport)
        .where(ActivityReport.author_id == ctx.member.id, ActivityReport.withdrawn_at.is_(None))
        .options(selectinload(ActivityReport.organization), selectinload(ActivityReport.photos))
        .order_by(ActivityReport.created_at.desc(), ActivityReport.id.desc())
        .limit(MY_REPORTS_SHOWN)
    ).all()
    if not reports:
        return [ui.text(_("report.none_yet"), menu_chips(ctx))]
    carousel, shown = ui.carousel(_("report.mine_alt", n=len(reports)), [_report_bubble(ctx, r) for r in reports])
    return [ui.text(_("report.mine_intro", n=shown)), ui.with_chips(carousel, menu_chips(ctx))]


def _load_for_change(ctx: Context, inp: Input) -> ActivityReport:
    """The report named by the button, if this member may still change it (postbacks carry only the id)."""
    report = ctx.session.get(ActivityReport, inp.data["id"], with_for_update=True)
    if report is None or ctx.member is None or report.author_id != ctx.member.id:
        raise Refusal(_("common.unknown_button"))  # a forged id: the same answer whether or not the row exists
    return _check_may_change(ctx, report)


def edit_report(ctx: Context, inp: Input) -> list[Message]:
    report = _load_for_change(ctx, inp)
    answers: dict[str, Any] = {
        "report_id": report.id,
        "org": str(report.organization_id),
        "activity_type": report.activity_type.value,
        "issue": report.issue.code if report.issue else None,
        "activity_date": report.activity_date.isoformat(),
        "participants": report.participants,
        "description": report.description,
        "photos": [{"id": p.id, "ok": p.status is PhotoStatus.STORED} for p in report.photos],
        "location": None if report.latitude is None else {
            "latitude": report.latitude, "longitude": report.longitude, "address": report.address or "",
            "title": ""},
        "budget": None if report.budget is None else str(report.budget),
        "budget_source": report.budget_source.value if report.budget_source else None,
    }
    return ctx.flows.start(ctx, "report", answers=answers, at_confirm=True)


def ask_withdraw(ctx: Context, inp: Input) -> list[Message]:
    report = _load_for_change(ctx, inp)
    return [ui.card(
        _("report.withdraw_title"), _report_rows(report, ctx.locale), note=_("report.withdraw_note"),
        buttons=[ui.button(_("report.withdraw_confirm"), postback.encode(a="report.withdraw_do", id=report.id),
                           style="primary"),
                 ui.button(_("report.withdraw_keep"), postback.encode(a="report.withdraw_keep"))])]


def do_withdraw(ctx: Context, inp: Input) -> list[Message]:
    report = _load_for_change(ctx, inp)
    report.withdrawn_at = ctx.now
    return [ui.text(_("report.withdrawn", name=report.organization.name), menu_chips(ctx))]


def keep_report(ctx: Context, inp: Input) -> list[Message]:
    return [ui.text(_("report.kept"), menu_chips(ctx))]


# ---- reminder preference ----------------------------------------------------------------


def _preference(ctx: Context) -> MemberPreference:
    assert ctx.member is not None
    pref = ctx.session.get(MemberPreference, ctx.member.id)
    if pref is None:  # the member row is locked for this event, so no one else creates it meanwhile
        pref = MemberPreference(member_id=ctx.member.id)
        ctx.session.add(pref)
    return pref


def stop_reminders(ctx: Context, inp: Input) -> list[Message]:
    pref = _preference(ctx)
    pref.reminders_paused_at = pref.reminders_paused_at or ctx.now
    return [ui.text(_("reminder.paused"), [ui.Chip(_("reminder.resume"), postback.encode(cmd="resume_reminders")),
                                           *menu_chips(ctx)])]


def resume_reminders(ctx: Context, inp: Input) -> list[Message]:
    _preference(ctx).reminders_paused_at = None
    return [ui.text(_("reminder.resumed"), menu_chips(ctx))]


def register(router: Router) -> None:
    router.flow(REPORT)
    router.command("report", start_report, ["รายงาน", "รายงานกิจกรรม", "report", "ส่งรายงาน"], starts_flow=True,
                   requires=registered)
    router.command("my_reports", my_reports, ["รายงานของฉัน", "my reports"], requires=registered)
    router.command("stop_reminders", stop_reminders, ["หยุดเตือน", "stop reminders", "ไม่ต้องเตือน"])
    router.command("resume_reminders", resume_reminders, ["เตือนอีกครั้ง", "resume reminders", "เปิดเตือน"])
    router.action("report.edit", edit_report)
    router.action("report.withdraw", ask_withdraw)
    router.action("report.withdraw_do", do_withdraw)
    router.action("report.withdraw_keep", keep_report)
