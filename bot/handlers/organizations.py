"""Registering community organizations and their certification (รับรองสถานภาพ)."""
from __future__ import annotations

from typing import Any

from linebot.v3.messaging import Message
from sqlalchemy import select

from .. import organizations, thai, ui
from ..cards.organizations import certification_card
from ..context import Context, Input
from ..flows.engine import Flow
from ..flows.steps import Choice, MultiChoice, Number, Phone, Text, Year
from ..i18n import N_, _
from ..models import Organization, OrgStatus, Province, StrategicIssue
from ..refusal import Refusal, registered, role
from ..organizations import CERTIFIERS, NotYours
from ..router import Router
from .choices import issue_options, org_type_options, province_options, provinces_by_region
from .menu import menu_chips

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
    notified, outbox = organizations.notify_certifiers(ctx.session, org, ctx.now, author=member)
    ctx.after_commit += outbox
    key = N_("org.saved_pending") if notified else N_("org.saved_pending_no_coordinator")
    return [ui.text(_(key, name=org.name), menu_chips(ctx))]


def _own_province(ctx: Context, answers: dict[str, Any]) -> str | None:
    return str(ctx.member.province_id) if ctx.member is not None and ctx.member.province_id else None


def _own_phone(ctx: Context) -> str | None:
    return ctx.member.phone if ctx.member is not None else None


REGISTER_ORG = Flow(
    "register_org",
    title=N_("org.title"),
    confirm_title=N_("org.confirm_title"),
    steps=[
        Text("name", N_("org.ask_name"), label=N_("field.org_name"), min_len=2, max_len=200),
        Choice("org_type", N_("org.ask_type"), label=N_("field.org_type"), options=org_type_options),
        # Most organizations are where their leader lives: that province, changeable on the card.
        Choice("province", N_("org.ask_province"), label=N_("field.province"), options=province_options,
               groups=provinces_by_region, group_prompt=N_("org.ask_region"), default=_own_province),
        Text("locality", N_("org.ask_locality"), label=N_("field.locality"), max_len=200),
        MultiChoice("issues", N_("org.ask_issues"), label=N_("field.issues"), options=issue_options),
        Number("member_count", N_("org.ask_members"), label=N_("field.member_count"), min_value=1,
               max_value=1_000_000, suggestions=(10, 20, 30, 50, 100, 200)),
        Year("founded_year", N_("org.ask_founded"), label=N_("field.founded_year"), optional=True),
        # The leader is the contact: their phone, changeable on the card.
        Phone("contact_phone", N_("org.ask_phone"), label=N_("field.contact_phone"), suggest=_own_phone,
              default=lambda ctx, answers: _own_phone(ctx)),
    ],
    on_complete=_save_organization,
)


def start_register_org(ctx: Context, inp: Input) -> list[Message]:
    return ctx.flows.start(ctx, "register_org")


# ---- certification ---------------------------------------------------------------


def _load_org_for_decision(ctx: Context, org_id: int) -> Organization:
    """The organization this certifier may decide now; Refusal saying why not otherwise."""
    org = ctx.session.get(Organization, org_id, with_for_update=True)
    if org is None:
        raise Refusal(_("common.unknown_button"))
    why = organizations.why_not_decide(ctx.member, org)
    if why is NotYours.NOT_ALLOWED:
        raise Refusal(_("cert.not_allowed"))
    if why is NotYours.OWN:
        raise Refusal(_("cert.not_own"))  # certification is the movement vouching: not for one's own
    if why is NotYours.DECIDED:
        decided = org.decided_at.astimezone(ctx.settings.timezone).date() if org.decided_at else ctx.today
        key = N_("cert.already_certified") if org.status is OrgStatus.CERTIFIED else N_("cert.already_rejected")
        raise Refusal(_(key, name=org.name, date=thai.format_date(decided, ctx.locale)))
    return org


def approve(ctx: Context, inp: Input) -> list[Message]:
    org = _load_org_for_decision(ctx, inp.data["id"])
    ctx.after_commit += organizations.decide(ctx.session, org, ctx.member, ctx.now, certified=True)
    return [ui.text(_("cert.approved", name=org.name), menu_chips(ctx))]


def start_reject(ctx: Context, inp: Input) -> list[Message]:
    org = _load_org_for_decision(ctx, inp.data["id"])
    return ctx.flows.start(ctx, "reject_org", answers={"org_id": org.id})


def _save_rejection(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    # Re-check at save time: someone else may have decided while this person typed.
    org = _load_org_for_decision(ctx, int(answers["org_id"]))
    ctx.after_commit += organizations.decide(ctx.session, org, ctx.member, ctx.now, certified=False,
                                             reason=answers["reason"])
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
    mine = organizations.pending_for(ctx.session, ctx.member)
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
