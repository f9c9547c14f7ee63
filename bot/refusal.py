"""One way for the chat layer to say no: raise `Refusal`.

Who may use a route is declared where it is registered (`router.command(..., requires=registered)`,
`router.action(..., requires=role(...))`); the dispatcher runs those guards before the handler.
Checks about one object (this organization is in your scope, this report is yours) stay in the
handler, and raise `Refusal` too. The dispatcher answers a Refusal with its text (and the menu
chips in a 1:1 chat, one short line in a group); the flow engine answers one raised while saving a
flow, ending the flow or keeping it at its card as the Refusal says.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from . import postback
from .i18n import _
from .models import Role
from .roles import has_role
from .ui import Chip

if TYPE_CHECKING:
    from .context import Context


class Refusal(Exception):
    """The person may not do this (now). `message` is the text to show, already translated.

    end_flow: raised while a flow saves, whether the flow ends (True) or stays at its card so the
    person can change an answer (False). chips: the quick replies in a 1:1 chat; None means whatever
    fits where it is answered (the menu; none after a flow's save). A group gets the text alone.
    """

    def __init__(self, message: str, *, end_flow: bool = True, chips: Sequence[Chip] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.end_flow = end_flow
        self.chips = None if chips is None else list(chips)


Guard = Callable[["Context"], None]  # raises Refusal when the person may not go on


def guard(allows: Callable[[Context], bool], refusal: str) -> Guard:
    """A guard from a rule and the message id said when it does not allow (pass it as N_("...")).

    The rule itself lives in its domain module (roles, assembly, meetings); this only says no kindly.
    """
    def check(ctx: Context) -> None:
        if not allows(ctx):
            raise Refusal(_(refusal))
    check.__qualname__ = f"guard({getattr(allows, '__name__', allows)!s}, {refusal!r})"
    return check


def registered(ctx: Context) -> None:
    """Features for registered leaders: the others are invited to register."""
    if ctx.member is None or not ctx.member.is_registered:
        raise Refusal(_("org.need_registration"), chips=[Chip(_("menu.register"), postback.encode(cmd="register"))])


def role(*roles: Role, refusal: str) -> Guard:
    """Holds one of these roles (admin holds all), in any scope; per-place checks stay in handlers."""
    return guard(lambda ctx: has_role(ctx.member, roles), refusal)


def as_guards(requires: Guard | Iterable[Guard] | None) -> tuple[Guard, ...]:
    if requires is None:
        return ()
    return (requires,) if callable(requires) else tuple(requires)
