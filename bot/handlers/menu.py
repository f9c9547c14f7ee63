"""The text menu (works without a rich menu) and help. Unknown text gets the menu, not silence."""
from __future__ import annotations

from linebot.v3.messaging import Message
from sqlalchemy import exists, select

from .. import appointments, menus, postback, thai, ui
from ..assembly import is_assembly_secretariat
from ..context import Context, Input
from ..config import SUPPORTED_LOCALES
from ..i18n import _, use_locale
from ..models import Organization, Role
from ..models.reports import reporting_orgs
from ..roles import has_role
from ..signin import may_use_console
from ..router import Router


def chip(command: str) -> ui.Chip:
    """The button for a command, with its one name (bot/menus.py)."""
    return ui.Chip(_(menus.ENTRIES[command].label_id), postback.encode(cmd=command))


def menu_commands(ctx: Context) -> list[str]:
    """What this person can do now; only real features, only what their roles allow."""
    member = ctx.member
    if member is None or not member.is_registered:
        return ["register", "help"]
    commands = []
    # Reporting is offered only to someone with an organization to report for, and then first:
    # it is what leaders come back for every month.
    if ctx.session.scalar(select(exists().where(reporting_orgs(member.id)).select_from(Organization))):
        commands += ["report", "my_reports"]
    commands += ["register_org", "my_info", "meetings"]
    if has_role(member, (Role.COORDINATOR, Role.SECRETARIAT)):
        commands += ["pending_orgs", "new_meeting"]
    if appointments.is_appointer(member):
        commands.append("appoint")
    if appointments.is_national_office(member):
        commands.append("seat_nominations")
    if has_role(member, Role.DELEGATE):
        commands.append("my_ballots")
    if may_use_console(member):
        commands.append("console")
    if is_assembly_secretariat(member):
        commands.append("assembly")
    commands += ["language", "help"]
    if len(commands) > ui.MAX_QUICK_REPLIES:
        # Someone holding every role (an admin) has more than LINE's 13 chips: the language is
        # also one tap away in ข้อมูลของฉัน, and typing "ภาษา" works anywhere.
        commands.remove("language")
    return commands


def menu_chips(ctx: Context) -> list[ui.Chip]:
    return [chip(command) for command in menu_commands(ctx)]


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


def help_text(ctx: Context) -> str:
    """Help names the buttons with their own words: first the rich menu's six tiles (always on
    the screen), then whatever else this person's menu offers them."""
    commands = list(menus.RICH_MENU) + [c for c in menu_commands(ctx) if c not in menus.RICH_MENU]
    lines = [_("help.intro")]
    lines += [_("help.line", label=_(menus.ENTRIES[c].label_id), what=_(menus.ENTRIES[c].help_id)) for c in commands]
    lines.append(_("help.footer"))
    return "\n".join(lines)


def show_help(ctx: Context, inp: Input) -> list[Message]:
    return [ui.text(help_text(ctx), menu_chips(ctx))]


def answer_to_button_names(router: Router) -> None:
    """Help says "tap a button, or type its name": so every menu command answers to its button's
    words, in Thai and English, whatever other words its module gave it."""
    for entry in menus.ENTRIES.values():
        names = []
        for locale in SUPPORTED_LOCALES:
            with use_locale(locale):
                names.append(_(entry.label_id))
        router.add_words(entry.command, names)


def register(router: Router) -> None:
    router.menu_chips = menu_chips
    router.command("menu", show_menu, sorted(thai.MENU_WORDS))
    router.command("help", show_help, ["ช่วยเหลือ", "help", "วิธีใช้", "?", "สอบถาม"])
    router.command("greet", greet, list(GREETING_WORDS))
    router.fallback = unknown
