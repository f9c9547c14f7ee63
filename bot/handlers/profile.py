"""ข้อมูลของฉัน / my info: profile, organizations, language, and erasing one's data."""
from __future__ import annotations

from linebot.v3.messaging import Message
from sqlalchemy import select

from .. import postback, thai, ui
from ..context import Context, Input
from ..i18n import N_, _, set_locale
from ..erasure import erase_member
from ..models import Organization, Role
from ..refusal import registered
from ..router import Router
from .menu import menu_chips

STATUS_KEYS = {"pending": N_("org.status_pending"), "certified": N_("org.status_certified"),
               "rejected": N_("org.status_rejected")}
ROLE_KEYS = {Role.LEADER: N_("role.leader"), Role.DELEGATE: N_("role.delegate"),
             Role.COORDINATOR: N_("role.coordinator"), Role.SECRETARIAT: N_("role.secretariat"),
             Role.ADMIN: N_("role.admin")}
MAX_ORGS_SHOWN = 10


def my_info(ctx: Context, inp: Input) -> list[Message]:
    member = ctx.member
    assert member is not None
    locale = ctx.locale
    roles = ", ".join(sorted({_(ROLE_KEYS[g.role]) for g in member.roles})) or "–"
    rows = [
        ui.Row(_("field.full_name"), member.full_name or ""),
        ui.Row(_("field.phone"), thai.format_phone(member.phone) if member.phone else ""),
        ui.Row(_("field.province"), member.province.name(locale) if member.province else ""),
        ui.Row(_("field.language"), "ภาษาไทย" if locale == "th" else "English"),
        ui.Row(_("field.roles"), roles),
    ]
    orgs = ctx.session.scalars(select(Organization).where(Organization.registered_by_id == member.id)
                               .order_by(Organization.created_at.desc())).all()
    for org in orgs[:MAX_ORGS_SHOWN]:
        rows.append(ui.Row(org.name, _(STATUS_KEYS[org.status.value])))
    if len(orgs) > MAX_ORGS_SHOWN:
        rows.append(ui.Row("…", _("profile.more_orgs", n=len(orgs) - MAX_ORGS_SHOWN)))
    card = ui.card(
        _("profile.title"), rows,
        note=None if orgs else _("profile.no_orgs"),
        buttons=[
            ui.button(_("profile.edit"), postback.encode(cmd="edit_profile")),
            ui.button(_("menu.language"), postback.encode(cmd="language")),
            ui.button(_("profile.delete"), postback.encode(a="erase.ask")),
        ],
    )
    return [ui.with_chips(card, menu_chips(ctx))]


def choose_language(ctx: Context, inp: Input) -> list[Message]:
    return [ui.text(_("profile.pick_language"), [
        ui.Chip("ภาษาไทย", postback.encode(a="lang", v="th")),
        ui.Chip("English", postback.encode(a="lang", v="en")),
    ])]


def set_language(ctx: Context, inp: Input) -> list[Message]:
    member = ctx.member
    assert member is not None
    value = inp.data["v"]
    member.locale = value
    set_locale(value)
    return [ui.text(_("profile.language_set"), menu_chips(ctx))]


def ask_erase(ctx: Context, inp: Input) -> list[Message]:
    return [ui.card(_("erase.title"), note=_("erase.body"), buttons=[
        ui.button(_("erase.confirm"), postback.encode(a="erase.do"), style="primary"),
        ui.button(_("erase.keep"), postback.encode(a="erase.keep")),
    ])]


def do_erase(ctx: Context, inp: Input) -> list[Message]:
    """Remove the person's personal data everywhere; organizations and counts stay, without them."""
    member = ctx.member
    assert member is not None
    if member.erased_at is not None:
        return [ui.text(_("erase.done"))]
    erase_member(ctx.session, member, ctx.now)
    return [ui.text(_("erase.done"), [ui.Chip(_("menu.register"), postback.encode(cmd="register"))])]


def keep_data(ctx: Context, inp: Input) -> list[Message]:
    return [ui.text(_("erase.kept"), menu_chips(ctx))]


def register(router: Router) -> None:
    router.command("my_info", my_info, ["ข้อมูลของฉัน", "my info", "ข้อมูล", "profile", "โปรไฟล์"],
                   requires=registered)
    router.command("language", choose_language, ["ภาษา", "language", "เปลี่ยนภาษา", "ภาษาอังกฤษ", "english"])
    router.command("erase", ask_erase, ["ลบข้อมูลของฉัน", "delete my data", "ลบข้อมูล"])
    router.action("lang", set_language)
    router.action("erase.ask", ask_erase)
    router.action("erase.do", do_erase)
    router.action("erase.keep", keep_data)
