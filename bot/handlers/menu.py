"""The text menu (works without a rich menu) and help. Unknown text gets the menu, not silence."""
from __future__ import annotations

from linebot.v3.messaging import Message
from sqlalchemy import exists, select

from .. import postback, thai, ui
from ..assembly import is_assembly_secretariat
from ..context import Context, Input
from ..i18n import _
from ..models import Organization, Role
from ..models.reports import reporting_orgs
from ..roles import has_role
from ..router import Router
from ..signin import may_use_console


def menu_chips(ctx: Context) -> list[ui.Chip]:
    """What this person can do now; only real features, only what their roles allow."""
    member = ctx.member
    if member is None or not member.is_registered:
        return [ui.Chip(_("menu.register"), postback.encode(cmd="register")), ui.Chip(_("menu.help"), postback.encode(cmd="help"))]
    chips = []
    # Reporting is offered only to someone with an organization to report for, and then first:
    # it is what leaders come back for every month.
    if ctx.session.scalar(select(exists().where(reporting_orgs(member.id)).select_from(Organization))):
        chips += [ui.Chip(_("menu.report"), postback.encode(cmd="report")),
                  ui.Chip(_("menu.my_reports"), postback.encode(cmd="my_reports"))]
    chips += [ui.Chip(_("menu.register_org"), postback.encode(cmd="register_org")),
              ui.Chip(_("menu.my_info"), postback.encode(cmd="my_info"))]
    if has_role(member, (Role.COORDINATOR, Role.SECRETARIAT)):
        chips.append(ui.Chip(_("menu.pending_orgs"), postback.encode(cmd="pending_orgs")))
        chips.append(ui.Chip(_("menu.new_meeting"), postback.encode(cmd="new_meeting")))
    if has_role(member, Role.DELEGATE):
        chips.append(ui.Chip(_("menu.my_ballots"), postback.encode(cmd="my_ballots")))
    if may_use_console(member):
        chips.append(ui.Chip(_("menu.console"), postback.encode(cmd="console")))
    if is_assembly_secretariat(member):
        chips.append(ui.Chip(_("menu.assembly"), postback.encode(cmd="assembly")))
    chips += [ui.Chip(_("menu.language"), postback.encode(cmd="language")), ui.Chip(_("menu.help"), postback.encode(cmd="help"))]
    return chips


def show_menu(ctx: Context, inp: Input | None = None) -> list[Message]:
    return [ui.text(_("menu.prompt"), menu_chips(ctx))]


def unknown(ctx: Context, inp: Input) -> list[Message]:
    if inp.kind in ("sticker", "image", "location") :
        return [ui.text(_("menu.got_non_text"), menu_chips(ctx))]
    return [ui.text(_("menu.unknown"), menu_chips(ctx))]


GREETING_WORDS = ("สวัสดี", "หวัดดี", "ดีจ้า", "สวัสดีตอนเช้า", "สวัสดีตอนบ่าย", "สวัสดีตอนเย็น",
                  "hello", "hi", "hey", "good morning", "good afternoon", "good evening")


def greet(ctx: Context, inp: Input) -> list[Message]:
    """A greeting is answered in kind, with what one can do: never "I don't understand"."""
    return [ui.text(_("menu.greeting"), menu_chips(ctx))]


def show_help(ctx: Context, inp: Input) -> list[Message]:
    return [ui.text(_("help.text"), menu_chips(ctx))]


def register(router: Router) -> None:
    router.menu_chips = menu_chips
    router.command("menu", show_menu, sorted(thai.MENU_WORDS))
    router.command("help", show_help, ["ช่วยเหลือ", "help", "วิธีใช้", "?", "สอบถาม"])
    router.command("greet", greet, list(GREETING_WORDS))
    router.fallback = unknown
