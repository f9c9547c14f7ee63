"""The routing table capability modules register into (explicitly, from handlers/__init__.py).

Text commands are matched by whole words in Thai and English, compared by thai.command_key (the
normalizer the flows use too: polite particles, case, spaces and punctuation do not count); the
same command is reachable by a postback `cmd=<key>` from menus and rich menus,
so nobody has to type. Who may use a command or action is declared with it (`requires=`, guards from
bot/refusal.py); the dispatcher checks that before the handler runs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from linebot.v3.messaging import Message

from .context import Context, Input
from .flows.engine import Flow
from .lineport import READS
from .refusal import Guard, as_guards
from .thai import command_key
from .ui import Chip

Handler = Callable[[Context, Input], list[Message]]


@dataclass
class Command:
    key: str
    handler: Handler
    words: tuple[str, ...]
    starts_flow: bool = False  # switching to it mid-flow asks before dropping the other
    requires: tuple[Guard, ...] = ()  # checked by the dispatcher before the handler runs


@dataclass
class Action:
    """A postback `a=<name>` handler, with the guards the dispatcher checks before it runs."""

    handler: Handler
    requires: tuple[Guard, ...] = ()


@dataclass
class Router:
    flows: list[Flow] = field(default_factory=list)
    commands: dict[str, Command] = field(default_factory=dict)
    group_commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    # LINE reads an action's handler uses (bot.lineport names), fetched before its transaction.
    action_needs: dict[str, frozenset[str]] = field(default_factory=dict)
    events: dict[str, Handler] = field(default_factory=dict)
    fallback: Handler | None = None
    menu_chips: Callable[[Context], list[Chip]] | None = None  # the main menu, for refusals
    _words: dict[str, str] = field(default_factory=dict)
    _group_words: dict[str, str] = field(default_factory=dict)

    def flow(self, flow: Flow) -> Flow:
        _reads(flow.needs, f"flow {flow.name!r}")
        self.flows.append(flow)
        return flow

    def command(self, key: str, handler: Handler, words: Iterable[str], *, starts_flow: bool = False,
                group: bool = False, requires: Guard | Iterable[Guard] | None = None) -> None:
        table, index = (self.group_commands, self._group_words) if group else (self.commands, self._words)
        if key in table:
            raise ValueError(f"command {key!r} registered twice")
        table[key] = Command(key, handler, tuple(words), starts_flow, as_guards(requires))
        for word in words:
            normalized = command_key(word)
            if index.get(normalized, key) != key:
                raise ValueError(f"word {word!r} used by {index[normalized]!r} and {key!r}")
            index[normalized] = key

    def add_words(self, key: str, words: Iterable[str]) -> None:
        """More typed words for a registered 1:1 command (a word another command has is an error)."""
        command = self.commands[key]
        new = [w for w in words if command_key(w) not in {command_key(x) for x in command.words}]
        for word in new:
            normalized = command_key(word)
            if self._words.get(normalized, key) != key:
                raise ValueError(f"word {word!r} used by {self._words[normalized]!r} and {key!r}")
            self._words[normalized] = key
        command.words = command.words + tuple(new)

    def action(self, name: str, handler: Handler, *, requires: Guard | Iterable[Guard] | None = None,
               needs: Iterable[str] = ()) -> None:
        if name in self.actions:
            raise ValueError(f"action {name!r} registered twice")
        self.actions[name] = Action(handler, as_guards(requires))
        self.action_needs[name] = _reads(needs, f"action {name!r}")

    def on(self, event_type: str, handler: Handler) -> None:
        self.events[event_type] = handler

    def find_command(self, text: str, *, group: bool = False) -> Command | None:
        index, table = (self._group_words, self.group_commands) if group else (self._words, self.commands)
        key = index.get(command_key(text))
        return table.get(key) if key else None


def _reads(needs: Iterable[str], what: str) -> frozenset[str]:
    needs = frozenset(needs)
    if needs - READS:
        raise ValueError(f"{what} needs unknown LINE reads {sorted(needs - READS)}")
    return needs
