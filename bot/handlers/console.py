"""The web console from chat: "เปิดแดชบอร์ด" gives a sign-in link; the person confirms a sign-in here.

The rules (who may, single use, ten minutes, the confirmation) are bot/signin.py's; this module is
the conversation around them.
"""
from __future__ import annotations

from linebot.v3.messaging import Message

from .. import signin, ui
from ..context import Context, Input
from ..i18n import N_, _
from ..refusal import role
from ..router import Router
from ..signin import Answer
from .menu import menu_chips

ANSWER_TEXT = {
    Answer.CONFIRMED: N_("console.confirmed"),
    Answer.DENIED: N_("console.denied"),
    Answer.EXPIRED: N_("console.link_expired_chat"),
    Answer.ANSWERED: N_("console.answered_before"),
    Answer.UNKNOWN: N_("common.unknown_button"),
}


def open_console(ctx: Context, inp: Input) -> list[Message]:
    assert ctx.member is not None
    _row, token = signin.issue_link(ctx.session, ctx.member, ctx.now)
    url = f"{ctx.settings.public_url}/console/link/{token}"
    minutes = int(signin.LINK_LIFETIME.total_seconds() // 60)
    return [ui.text(_("console.link", url=url, minutes=minutes), menu_chips(ctx))]


def _answer(confirm: bool):
    def handle(ctx: Context, inp: Input) -> list[Message]:
        assert ctx.member is not None
        outcome = signin.answer(ctx.session, ctx.member, inp.data["id"], ctx.now, confirm=confirm)
        return [ui.text(_(ANSWER_TEXT[outcome]), menu_chips(ctx))]
    return handle


def register(router: Router) -> None:
    allowed = role(*signin.CONSOLE_ROLES, refusal=N_("console.not_allowed"))
    router.command("console", open_console, ["เปิดแดชบอร์ด", "แดชบอร์ด", "dashboard", "open dashboard", "console"],
                   requires=allowed)
    router.action("console.ok", _answer(True))
    router.action("console.no", _answer(False))
