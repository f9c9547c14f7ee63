"""Group chats: a short intro on join; afterwards the bot speaks only when given a command."""
from __future__ import annotations

from linebot.v3.messaging import Message

from .. import ui
from ..context import Context, Input
from ..i18n import _
from ..router import Router


def on_join(ctx: Context, inp: Input) -> list[Message]:
    return [ui.text(_("group.intro"))]


def on_leave(ctx: Context, inp: Input) -> list[Message]:
    return []


def group_help(ctx: Context, inp: Input) -> list[Message]:
    # Never personal data here: this is read by everyone in the group.
    return [ui.text(_("group.help"))]


def register(router: Router) -> None:
    router.on("join", on_join)
    router.on("leave", on_leave)
    router.command("group_help", group_help, ["ช่วยเหลือ", "help", "วิธีใช้", "@ขบวน"], group=True)
