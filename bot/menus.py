"""The names of what a person can do: one table for the rich menu, the text menu's chips and help.

A leader learns a button by its words, so a thing has one name wherever it is shown: the rich
menu's tiles (bot/richmenu.py), the chips of the text menu (bot/handlers/menu.py) and the lines
of help all read their label from here, and help's line for a button starts with the button's
own label. Which entries a person is offered is decided by the menu (their roles); this table
only names them and says in one line what each does.
"""
from __future__ import annotations

from dataclasses import dataclass

from .i18n import N_


@dataclass(frozen=True)
class Entry:
    command: str  # the router's command key: its button's postback is cmd=<command>
    label_id: str  # catalog id of the button's words (≤ 20 characters: a chip's label)
    help_id: str  # catalog id of one line saying what it does, shown after the label in help


ENTRIES: dict[str, Entry] = {entry.command: entry for entry in (
    Entry("register", N_("menu.register"), N_("help.register")),
    Entry("report", N_("menu.report"), N_("help.report")),
    Entry("my_ballots", N_("menu.my_ballots"), N_("help.my_ballots")),
    Entry("meetings", N_("menu.meetings"), N_("help.meetings")),
    Entry("my_info", N_("menu.my_info"), N_("help.my_info")),
    Entry("help", N_("menu.help"), N_("help.help")),
    Entry("register_org", N_("menu.register_org"), N_("help.register_org")),
    Entry("my_reports", N_("menu.my_reports"), N_("help.my_reports")),
    Entry("pending_orgs", N_("menu.pending_orgs"), N_("help.pending_orgs")),
    Entry("new_meeting", N_("menu.new_meeting"), N_("help.new_meeting")),
    Entry("assembly", N_("menu.assembly"), N_("help.assembly")),
    Entry("appoint", N_("menu.appoint"), N_("help.appoint")),
    Entry("seat_nominations", N_("menu.seat_nominations"), N_("help.seat_nominations")),
    Entry("console", N_("menu.console"), N_("help.console")),
    Entry("language", N_("menu.language"), N_("help.language")),
)}

# The rich menu's six tiles, in reading order (3 × 2): everyone sees these, whatever their roles.
RICH_MENU: tuple[str, ...] = ("register", "report", "my_ballots", "meetings", "my_info", "help")
