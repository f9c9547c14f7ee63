"""Follow, personal-data consent (PDPA), and leader registration."""
from __future__ import annotations

from typing import Any

from linebot.v3.messaging import Message
from sqlalchemy import select

from .. import appointments, postback, thai, ui
from ..context import Context, Input
from ..flows.engine import Flow
from ..flows.steps import Choice, Phone, Text
from ..i18n import N_, _
from ..lineport import PROFILE
from ..models import Province, Role, RoleGrant, ScopeKind
from ..router import Router
from .choices import province_options, provinces_by_region
from .menu import menu_chips
from .profile import ask_erase


def _save_registration(ctx: Context, answers: dict[str, Any]) -> list[Message]:
    member = ctx.member
    assert member is not None
    province = ctx.session.get(Province, int(answers["province"]))
    first_time = member.registered_at is None
    member.full_name = answers["full_name"]
    member.phone = answers["phone"]
    member.province = province
    member.registered_at = member.registered_at or ctx.now
    member.erased_at = None
    if province is not None and not ctx.session.scalar(select(RoleGrant.id).where(
            RoleGrant.member_id == member.id, RoleGrant.role == Role.LEADER)):
        ctx.session.add(RoleGrant(member=member, role=Role.LEADER, scope_kind=ScopeKind.PROVINCE,
                                  scope_code=province.code))
    # Invitations whose code they typed (and, at a first registration, for this phone) attach now.
    ctx.after_commit += appointments.on_registered(ctx.session, member, now=ctx.now,
                                                      first_time=first_time)
    key = N_("register.done") if first_time else N_("register.updated")
    return [ui.text(_(key, name=thai.given_name(member.full_name)), menu_chips(ctx))]


REGISTER = Flow(
    "register",
    title=N_("register.title"),
    edit_title=N_("register.edit_title"),
    confirm_title=N_("register.confirm_title"),
    steps=[
        Text("full_name", N_("register.ask_name"), label=N_("field.full_name"), min_len=2, max_len=120),
        Phone("phone", N_("register.ask_phone"), label=N_("field.phone")),
        Choice("province", N_("register.ask_province"), label=N_("field.province"),
               options=province_options, groups=provinces_by_region, group_prompt=N_("register.ask_region")),
        # No language question: Thai unless the person picked English before (ภาษา / my info).
    ],
    on_complete=_save_registration,
)


def consent_card(ctx: Context) -> list[Message]:
    return [ui.card(
        _("consent.title"),
        note=_("consent.body"),
        buttons=[
            ui.button(_("consent.accept"), postback.encode(a="consent", v="yes"), style="primary"),
            ui.button(_("consent.decline"), postback.encode(a="consent", v="no")),
        ],
    )]


def on_follow(ctx: Context, inp: Input) -> list[Message]:
    member = ctx.member
    assert member is not None
    member.active = True
    if member.is_registered:
        return [ui.text(_("follow.welcome_back", name=thai.given_name(member.full_name or "")), menu_chips(ctx))]
    return [ui.text(_("follow.greeting")), *consent_card(ctx)]


def on_unfollow(ctx: Context, inp: Input) -> list[Message]:
    # Blocking the bot is not a request to erase: keep the data, stop sending.
    assert ctx.member is not None
    ctx.member.active = False
    return []


def on_consent(ctx: Context, inp: Input) -> list[Message]:
    member = ctx.member
    assert member is not None
    if inp.data.get("v") != "yes":
        if member.is_registered:  # declining after registering means "forget me": ask to confirm
            return ask_erase(ctx, inp)
        member.consent_at, member.display_name = None, None  # withdrawn before any data was given
        ctx.flows.clear(ctx)
        return [ui.text(_("consent.declined"), [ui.Chip(_("menu.register"), postback.encode(cmd="register"))])]
    state = ctx.flows.state_of(ctx)
    if member.consent_at is not None and state is not None and state.flow == "register":
        return ctx.flows.current(ctx, state)  # a second tap on "agree": carry on, lose nothing
    if member.consent_at is None:
        member.consent_at = ctx.now
    if not member.display_name:
        profile = ctx.line.profile(member.line_user_id)
        member.display_name = profile.display_name[:100] if profile else None
    if member.is_registered:
        return [ui.text(_("consent.thanks_registered"), menu_chips(ctx))]
    return ctx.flows.start(ctx, "register", intro=_("consent.thanks"))


def start_registration(ctx: Context, inp: Input) -> list[Message]:
    member = ctx.member
    assert member is not None
    if member.consent_at is None:
        return consent_card(ctx)
    if member.is_registered:
        # Already registered: "register" most likely means an organization, or a change to
        # their own details; ask with two taps rather than open an edit silently.
        return [ui.text(_("register.already", name=thai.given_name(member.full_name or "")), [
            ui.Chip(_("menu.register_org"), postback.encode(cmd="register_org")),
            ui.Chip(_("register.edit_mine"), postback.encode(cmd="edit_profile")),
        ])]
    return ctx.flows.start(ctx, "register")


def edit_profile(ctx: Context, inp: Input) -> list[Message]:
    """Change one's own details: every answer is known, so the person lands on the summary card."""
    member = ctx.member
    assert member is not None
    if not member.is_registered:
        return start_registration(ctx, inp)
    answers = {"full_name": member.full_name, "phone": member.phone,
               "province": str(member.province_id) if member.province_id else None}
    return ctx.flows.start(ctx, "register", answers=answers, at_confirm=True)


def register(router: Router) -> None:
    router.flow(REGISTER)
    router.on("follow", on_follow)
    router.on("unfollow", on_unfollow)
    router.action("consent", on_consent, needs=[PROFILE])  # the display name, fetched before the lock
    router.command("register", start_registration, ["ลงทะเบียน", "register", "สมัคร"], starts_flow=True)
    router.command("edit_profile", edit_profile,
                   ["แก้ไขข้อมูล", "แก้ไขข้อมูลของฉัน", "แก้ข้อมูล", "edit my info", "edit profile"],
                   starts_flow=True)
