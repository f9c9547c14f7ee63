"""What delegates and the secretariat see of the assembly: ballots, results, option labels.

Rendering only: every figure comes computed from bot/assembly.py (the small-numbers rule of secret
ballots included, as `Result.breakdown`); nothing here decides or counts.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from linebot.v3.messaging import (
    FlexBox,
    FlexBubble,
    FlexMessage,
    FlexSeparator,
    FlexText,
)

from .. import postback, thai, ui
from ..i18n import N_, _
from ..models import AgendaItem, DecisionRule
from ..models.assembly import FEWER, HIDDEN, SMALL, Cell, Outcome

if TYPE_CHECKING:
    from ..assembly import Result

DEFAULT_OPTIONS = (N_("vote.option_approve"), N_("vote.option_reject"), N_("vote.option_abstain"))
APPROVE = 0  # with the default options, the motion passes when this option wins under the rule


def option_labels(item: AgendaItem) -> list[str]:
    """Option labels in the current locale (the default options are translated, custom ones not)."""
    if item.custom_options:
        return list(item.custom_options)
    return [_(key) for key in DEFAULT_OPTIONS]


def cell_text(cell: Cell, locale: str) -> str:
    """A cell in the current locale: a number, "fewer than 3" or "not shown"."""
    if cell == FEWER:
        return _("vote.cell_fewer", n=thai.format_number(SMALL, locale))
    if cell == HIDDEN:
        return _("vote.cell_hidden")
    return thai.format_number(int(cell), locale)


def ballot_message(item: AgendaItem, tz: ZoneInfo, locale: str) -> FlexMessage:
    """The ballot: title, description, how it works, one button per option.

    The button carries the item's opaque token and the option's index, nothing else: whether the
    tap counts is decided by the server (cast_vote), whoever built the postback.
    """
    labels = option_labels(item)
    body: list[Any] = [FlexText(text=thai.truncate(_("vote.ballot_header"), 100), size="xs", color=ui.MUTED),
                       FlexText(text=thai.truncate(item.title, 200), weight="bold", size="lg", wrap=True)]
    if item.description:
        body.append(FlexText(text=thai.truncate(item.description, 1000), size="sm", wrap=True, margin="md"))
    notes = [_("vote.closes_at", time=thai.format_datetime(item.closes_at, locale, tz)),
             _("vote.secret_note") if item.secret else _("vote.open_note"),
             _("vote.change_allowed") if item.allow_change else _("vote.change_not_allowed")]
    body += [FlexSeparator(margin="md"),
             FlexText(text="\n".join(notes), size="xs", color=ui.MUTED, wrap=True, margin="md")]
    buttons = [ui.button(label, postback.encode(a="vote", b=item.token, o=i), display=label,
                         style="primary" if i == APPROVE and not item.custom_options else "secondary")
               for i, label in enumerate(labels)]
    bubble = FlexBubble(body=FlexBox(layout="vertical", spacing="sm", contents=body),
                        footer=FlexBox(layout="vertical", spacing="sm", contents=buttons))
    alt = _("vote.ballot_alt", title=item.title)
    return FlexMessage(alt_text=thai.truncate(alt, ui.ALT_TEXT), contents=bubble)


OUTCOME_TEXT = {Outcome.PASSED: N_("vote.outcome_passed"), Outcome.NOT_PASSED: N_("vote.outcome_not_passed"),
                Outcome.NO_QUORUM: N_("vote.outcome_no_quorum")}
RULE_TEXT = {DecisionRule.MAJORITY: N_("vote.rule_majority"), DecisionRule.TWO_THIRDS: N_("vote.rule_two_thirds")}


def percent(part: int, whole: int, locale: str) -> str:
    return thai.format_number(round(part * 100 / whole, 1), locale) if whole else "0"


def result_rows(item: AgendaItem, result: Result, locale: str) -> list[ui.Row]:
    labels = option_labels(item)
    rows = [ui.Row(label, _("vote.count", n=thai.format_number(n, locale),
                            pct=percent(n, result.voted, locale)))
            for label, n in zip(labels, result.counts)]
    rows.append(ui.Row(_("vote.turnout"), _("vote.turnout_value", voted=thai.format_number(result.voted, locale),
                                                eligible=thai.format_number(result.eligible, locale),
                                                pct=percent(result.voted, result.eligible, locale))))
    rows.append(ui.Row(_("vote.quorum"), _("vote.quorum_met") if result.decision.quorum_met
                       else _("vote.quorum_not_met", pct=item.quorum_percent)))
    rows.append(ui.Row(_("vote.rule"), _(RULE_TEXT[item.rule])))
    outcome = _(OUTCOME_TEXT[result.decision.outcome])
    if item.custom_options and result.decision.winner is not None:
        outcome = _("vote.outcome_option", option=labels[result.decision.winner])
    rows.append(ui.Row(_("vote.decision"), outcome))
    for row in result.breakdown:
        t = row.tally
        split = _("vote.region_hidden") if row.hidden else " · ".join(
            f"{label} {cell_text(cell, locale)}" for label, cell in zip(labels, row.cells))
        rows.append(ui.Row(t.name(locale), _("vote.region_value", voted=thai.format_number(t.voted, locale),
                                             eligible=thai.format_number(t.eligible, locale), split=split)))
    return rows


def result_card(item: AgendaItem, result: Result, tz: ZoneInfo, locale: str) -> FlexMessage:
    when = item.closed_at or item.closes_at
    return ui.card(_("vote.result_title", title=item.title), result_rows(item, result, locale),
                   note=_("vote.result_note", time=thai.format_datetime(when, locale, tz)))
