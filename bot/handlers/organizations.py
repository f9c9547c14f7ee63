"""Registering community organizations and their certification (รับรองสถานภาพ)."""
from __future__ import annotations

from typing import Any

from linebot.v3.messaging import Message
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import thai, ui
from ..cards.organizations import certification_card
from ..context import Context, Input
from ..delivery import enqueue
from ..flows.engine import Flow
from ..flows.steps import Choice, MultiChoice, Number, Phone, Text, Year
from ..i18n import N_, _, use_locale
from ..models import Organization, OrgStatus, Priority, Province, Role, StrategicIssue
from ..refusal import Refusal, registered, role
from ..roles import has_role, members_covering
from ..router import Router
from ..scopes import Scope, contains
from .choices import issue_options, org_type_options, province_options, provinces_by_region
from .menu import menu_chips

CERTIFIERS = (Role.COORDINATOR, Role.SECRETARIAT)
MAX_PENDING_SHOWN = 10  # a carousel holds at most 12 bubbles


def _save_organization(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    member = ctx.member
    assert member is not None
    province = ctx.session.get(Province, int(answers["province"]))
    if province is None:
        raise Refusal(_("flow.choice_invalid"), end_flow=False)
    issues = ctx.session.scalars(select(StrategicIssue).where(StrategicIssue.code.in_(answers["issues"]))).all()
    org = Organization(
        name=answers["name"], org_type=answers["org_type"], province=province, locality=answers.get("locality") or "",
        member_count=answers["member_count"], founded_year=answers.get("founded_year"),
        contact_phone=answers.get("contact_phone"), contact=member, registered_by=member,
        status=OrgStatus.PENDING, issues=list(issues),
    )
    ctx.session.add(org)
    ctx.session.flush()
    notified = notify_certifiers(ctx, org)
    key = N_("org.saved_pending") if notified else N_("org.saved_pending_no_coordinator")
    return [ui.text(_(key, name=org.name), menu_chips(ctx))]


REGISTER_ORG = Flow(
    "register_org",
    title=N_("org.title"),
    confirm_title=N_("org.confirm_title"),
    steps=[
        Text("name", N_("org.ask_name"), label=N_("field.org_name"), min_len=2, max_len=200),
        Choice("org_type", N_("org.ask_type"), label=N_("field.org_type"), options=org_type_options),
        Choice("province", N_("org.ask_province"), label=N_("field.province"), options=province_options,
               groups=provinces_by_region, group_prompt=N_("org.ask_region")),
        Text("locality", N_("org.ask_locality"), label=N_("field.locality"), max_len=200),
        MultiChoice("issues", N_("org.ask_issues"), label=N_("field.issues"), options=issue_options),
        Number("member_count", N_("org.ask_members"), label=N_("field.member_count"), min_value=1,
               max_value=1_000_000, suggestions=(10, 20, 30, 50, 100, 200)),
        Year("founded_year", N_("org.ask_founded"), label=N_("field.founded_year"), optional=True),
        Phone("contact_phone", N_("org.ask_phone"), label=N_("field.contact_phone"),
              default=lambda ctx: ctx.member.phone if ctx.member else None),
    ],
    on_complete=_save_organization,
)


def start_register_org(ctx: Context, inp: Input) -> list[Message]:
    return ctx.flows.start(ctx, "register_org")


# ---- certification ---------------------------------------------------------------


def notify_certifiers(ctx: Context, org: Organization) -> int:
    """Queue a certification request to every coordinator/secretariat covering the province.

    One push per language so each reads it in their own; rows go out right after commit.
    """
    certifiers = [m for m in members_covering(ctx.session, CERTIFIERS, org.province)
                  if m.id != (ctx.member.id if ctx.member else None)]
    by_locale: dict[str, list[str]] = {}
    for m in certifiers:
        by_locale.setdefault(m.locale, []).append(m.line_user_id)
    for locale, users in by_locale.items():
        with use_locale(locale):
            rows = enqueue(ctx.session, users, [certification_card(org, locale)], now=ctx.now,
                           kind="org.certification_request",
                           priority=Priority.NORMAL, dedupe_key=f"org:{org.id}:request:{locale}")
        ctx.after_commit.extend(r.id for r in rows)
    return len(certifiers)


def _load_org_for_decision(ctx: Context, inp: Input) -> Organization:
    """The organization this certifier may decide now; Refusal saying why not otherwise."""
    org = ctx.session.get(Organization, inp.data["id"], with_for_update=True)
    if org is None:
        raise Refusal(_("common.unknown_button"))
    if not has_role(ctx.member, CERTIFIERS, org.province):
        raise Refusal(_("cert.not_allowed"))
    if ctx.member is not None and ctx.member.id in (org.registered_by_id, org.contact_member_id):
        raise Refusal(_("cert.not_own"))  # certification is the movement vouching: not for one's own
    if org.status is not OrgStatus.PENDING:
        decided = org.decided_at.astimezone(ctx.settings.timezone).date() if org.decided_at else ctx.today
        key = N_("cert.already_certified") if org.status is OrgStatus.CERTIFIED else N_("cert.already_rejected")
        raise Refusal(_(key, name=org.name, date=thai.format_date(decided, ctx.locale)))
    return org


def _tell_leader(ctx: Context, org: Organization, key: str, **params: object) -> None:
    leader = org.registered_by
    if leader is None or not leader.active or leader.erased_at is not None:
        return
    with use_locale(leader.locale):
        message = ui.text(_(key, name=org.name, **params))
    rows = enqueue(ctx.session, [leader.line_user_id], [message], now=ctx.now, kind=f"org.{org.status.value}",
                   priority=Priority.HIGH, urgent=False, dedupe_key=f"org:{org.id}:outcome")
    ctx.after_commit.extend(r.id for r in rows)


def approve(ctx: Context, inp: Input) -> list[Message]:
    org = _load_org_for_decision(ctx, inp)
    org.status, org.decided_by, org.decided_at, org.decision_reason = OrgStatus.CERTIFIED, ctx.member, ctx.now, None
    _tell_leader(ctx, org, N_("cert.leader_certified"))
    return [ui.text(_("cert.approved", name=org.name), menu_chips(ctx))]


def start_reject(ctx: Context, inp: Input) -> list[Message]:
    org = _load_org_for_decision(ctx, inp)
    return ctx.flows.start(ctx, "reject_org", answers={"org_id": org.id})


def _save_rejection(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    # Re-check at save time: someone else may have decided while this person typed.
    org = _load_org_for_decision(ctx, Input("postback", data={"id": answers["org_id"]}))
    org.status, org.decided_by, org.decided_at = OrgStatus.REJECTED, ctx.member, ctx.now
    org.decision_reason = answers["reason"]
    _tell_leader(ctx, org, N_("cert.leader_rejected"), reason=org.decision_reason)
    return [ui.text(_("cert.rejected", name=org.name), menu_chips(ctx))]


REJECT_ORG = Flow(
    "reject_org",
    title=N_("cert.reject_title"),
    steps=[Text("reason", N_("cert.ask_reason"), min_len=3, max_len=500)],
    on_complete=_save_rejection,
)


def pending_orgs(ctx: Context, inp: Input) -> list[Message]:
    """Organizations waiting for this certifier, oldest first, as cards with the decision buttons."""
    assert ctx.member is not None
    candidates = ctx.session.scalars(
        select(Organization).where(Organization.status == OrgStatus.PENDING)
        .options(selectinload(Organization.province).selectinload(Province.group),
                 selectinload(Organization.issues), selectinload(Organization.registered_by))
        .order_by(Organization.created_at)
    ).all()
    mine = [o for o in candidates if any(g.role in (*CERTIFIERS, Role.ADMIN) and contains(Scope.of(g), o.province)
                                         for g in ctx.member.roles)]
    if not mine:
        return [ui.text(_("cert.none_pending"), menu_chips(ctx))]
    bubbles = [certification_card(o, ctx.locale).contents for o in mine[:MAX_PENDING_SHOWN]]
    carousel, shown = ui.carousel(_("cert.pending_alt", n=len(mine)), bubbles)
    intro = _("cert.pending_intro", n=len(mine), shown=shown)
    return [ui.text(intro), ui.with_chips(carousel, menu_chips(ctx))]


def register(router: Router) -> None:
    router.flow(REGISTER_ORG)
    router.flow(REJECT_ORG)
    router.command("register_org", start_register_org,
                   ["ลงทะเบียนองค์กร", "register organization", "register org", "องค์กรใหม่"], starts_flow=True,
                   requires=registered)
    router.command("pending_orgs", pending_orgs, ["รอรับรอง", "รายการรอรับรอง", "pending"],
                   requires=role(*CERTIFIERS, refusal=N_("cert.not_allowed")))
    router.action("org.approve", approve)
    router.action("org.reject", start_reject)
