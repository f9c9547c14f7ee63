"""The postback schema: every button's data, what it may carry, parsed strictly in one place.

Postback data is a public surface: anyone can send any string to the webhook with a valid
signature of their own tap, or forge one in a modified client. So data is decoded here and
nowhere else, against the table below, and anything that does not fit (an unknown action, a
missing or unexpected field, an id that is not plain ASCII digits within 1..2**31-1, a value
outside its list) parses to ``None``; the dispatcher answers that with ``common.unknown_button``
and the menu, and no handler ever sees it. Builders use :func:`encode`, which refuses (raises)
data its own parser would not accept, so what the bot sends and what it reads cannot drift apart.

Wire format: ``key=value`` pairs, URL-encoded, ≤ 300 characters (LINE's limit). Exactly one of
``a`` (action), ``cmd`` (command), ``c`` (flow control) or ``f`` (flow step) says what kind of tap
it is. Date/time pickers add LINE's ``params`` beside the data; those are read by the handler
that asked for them (``date``/``datetime``), never from the data.

Field types: **id** = plain ASCII digits, 1 ≤ n ≤ 2**31-1 (a PostgreSQL integer); **int a..b** =
plain ASCII digits in that range; **one of** = exactly one of the listed words; **name** = ASCII
letters, digits, ``_`` and ``.``, 1-40 characters; **text n** = any text up to n characters.

======================  =====================================  ==========================================
data                    fields                                 meaning
======================  =====================================  ==========================================
``cmd=<name>``          ``sw`` one of 1 (optional)             a menu command by key (router.commands);
                                                               ``sw=1``: drop the flow under way
``c=<word>``            word one of cancel, back, resume,      flow navigation (engine)
                        restart
``f=<name>&s=<name>``   at most one of: ``v`` text 200         a step's own button: flow ``f``, step
                        (an answer), ``x`` one of keep, save,  ``s`` (``__confirm`` = summary card);
                        skip, done, none, clear, ``e`` name    ``e`` = change that step from the card,
                        (step to edit), ``g`` text 64 (group,  ``g``/``p`` = choice group / page,
                        empty = all), ``p`` int 0..999 (page), ``t`` = toggle in a multi-pick
                        ``t`` text 64 (toggle)
``a=consent``           ``v`` one of yes, no                   privacy consent card
``a=lang``              ``v`` one of th, en                    language chips
``a=erase.ask``         –                                      "delete my data" card
``a=erase.do``          –                                      erase personal data (confirmed)
``a=erase.keep``        –                                      keep it after all
``a=org.approve``       ``id`` id (organization)               certifier approves
``a=org.reject``        ``id`` id (organization)               certifier starts the rejection flow
``a=report.edit``       ``id`` id (activity report)            author opens a report to change it
``a=report.withdraw``   ``id`` id (activity report)            author asks to withdraw
``a=report.withdraw_do````id`` id (activity report)            withdraw (confirmed)
``a=report.withdraw_keep`` –                                   keep it after all
``a=vote``              ``b`` token (1-32 of A-Z a-z 0-9 _ -), a delegate's ballot button; ``x=1`` =
                        ``o`` int 0..9 (option index),         confirmed (an item that allows no
                        ``x`` one of 1 (optional)              change asks first)
``a=vote.open``         ``id`` id (agenda item)                secretariat opens voting now
``a=vote.close``        ``id`` id, ``x`` one of 1 (optional)   close now; ``x=1`` = confirmed
``a=vote.withdraw``     ``id`` id, ``x`` one of 1 (optional)   withdraw the item; ``x=1`` = confirmed
``a=vote.result``       ``id`` id (agenda item)                show the result
``a=vote.voters``       ``id`` id (agenda item)                show who has voted
``a=rsvp``              ``id`` id (meeting notice),            an invitee's answer
                        ``v`` one of going, not_going, maybe
``a=mtg.send``          ``id`` id (meeting notice)             organizer sends the notice now
``a=mtg.sched``         ``id`` id (meeting notice)             organizer schedules it (datetime picker)
``a=mtg.cancel``        ``id`` id (meeting notice)             organizer cancels it
``a=mtg.move``          ``id`` id (meeting notice)             organizer moves it (datetime picker)
``a=seat.confirm``      ``id`` id (seat nomination)            the national office confirms a seat
``a=invite.withdraw``   ``id`` id (invitation)                 withdraw an open invitation
``a=appoint.undo``      ``m`` id (member), ``t`` held token    inviter removes a role an invitation gave
                        (g<id> grant | n<id> nomination)       (opens the dismiss card)
``a=console.ok``        ``id`` id (console sign-in)            "yes, I am signing in to the console"
``a=console.no``        ``id`` id (console sign-in)            "no, that is not me"
``a=gbind``             ``s`` scope (national or               group chat: bind to this scope
                        region|group|province:<code>)
``a=gset``              ``k`` one of daily, weekly, results,   group chat: toggle a digest / language
                        cert, lang
======================  =====================================  ==========================================

Every ``a=`` and ``cmd=`` tap may also carry ``sw=1`` (the person confirmed dropping a flow).
Group-chat actions are routed as ``group.<name>``. Whether an id names a row this person may use
is the handler's check; a row that does not exist or is not theirs gets the same answer.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_DATA = 300  # LINE's limit on postback data
MAX_ID = 2**31 - 1  # PostgreSQL integer
MAX_OPTIONS = 10  # bot.models.assembly.MAX_OPTIONS: ballot options per item

_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() would take '²' and '๑'
_NAME = re.compile(r"[A-Za-z0-9_.]{1,40}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,32}")
_HELD = re.compile(r"[gn][0-9]{1,10}")  # appointments.Held.token
_SCOPE = re.compile(r"national|(region|group|province):[A-Za-z0-9_-]{1,20}")

Parser = Callable[[str], Any]  # returns the typed value or raises ValueError


def integer(lo: int, hi: int) -> Parser:
    def parse(raw: str) -> int:
        if not _DIGITS.fullmatch(raw):
            raise ValueError("not plain digits")
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError("out of range")
        return value
    return parse


def one_of(*words: str) -> Parser:
    allowed = frozenset(words)

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError("not an allowed value")
        return raw
    return parse


def pattern(regex: re.Pattern[str]) -> Parser:
    def parse(raw: str) -> str:
        if not regex.fullmatch(raw):
            raise ValueError("malformed")
        return raw
    return parse


def text(max_len: int, *, empty: bool = False) -> Parser:
    def parse(raw: str) -> str:
        if len(raw) > max_len or (not raw and not empty):
            raise ValueError("bad length")
        return raw
    return parse


ID = integer(1, MAX_ID)
NAME = pattern(_NAME)
CONFIRMED = one_of("1")


@dataclass(frozen=True)
class Field:
    parse: Parser
    required: bool = True


def _id() -> dict[str, Field]:
    return {"id": Field(ID)}


# Actions (a=<name>) and their fields; see the table in the module docstring.
ACTIONS: dict[str, dict[str, Field]] = {
    "consent": {"v": Field(one_of("yes", "no"))},
    "lang": {"v": Field(one_of("th", "en"))},
    "erase.ask": {},
    "erase.do": {},
    "erase.keep": {},
    "org.approve": _id(),
    "org.reject": _id(),
    "report.edit": _id(),
    "report.withdraw": _id(),
    "report.withdraw_do": _id(),
    "report.withdraw_keep": {},
    "vote": {"b": Field(pattern(_TOKEN)), "o": Field(integer(0, MAX_OPTIONS - 1)),
             "x": Field(CONFIRMED, required=False)},
    "vote.open": _id(),
    "vote.close": {**_id(), "x": Field(CONFIRMED, required=False)},
    "vote.withdraw": {**_id(), "x": Field(CONFIRMED, required=False)},
    "vote.result": _id(),
    "vote.voters": _id(),
    "rsvp": {**_id(), "v": Field(one_of("going", "not_going", "maybe"))},
    "mtg.send": _id(),
    "mtg.sched": _id(),
    "mtg.cancel": _id(),
    "mtg.move": _id(),
    "seat.confirm": _id(),
    "invite.withdraw": _id(),
    "appoint.undo": {"m": Field(ID), "t": Field(pattern(_HELD))},
    "console.ok": _id(),
    "console.no": _id(),
    "gbind": {"s": Field(pattern(_SCOPE))},
    "gset": {"k": Field(one_of("daily", "weekly", "results", "cert", "lang"))},
}
GROUP_ACTIONS = frozenset({"gbind", "gset"})  # routed as group.<name>, in group chats only

CONTROLS = ("cancel", "back", "resume", "restart")
SWITCH = {"sw": Field(CONFIRMED, required=False)}
STEP_FIELDS: dict[str, Field] = {  # at most one of these beside f and s
    "v": Field(text(200)),
    "x": Field(one_of("keep", "save", "skip", "done", "none", "clear")),
    "e": Field(NAME),
    "g": Field(text(64, empty=True)),
    "p": Field(integer(0, 999)),
    "t": Field(text(64)),
}


def _fields(pairs: dict[str, str], spec: dict[str, Field], fixed: dict[str, Any]) -> dict[str, Any] | None:
    out = dict(fixed)
    for key, raw in pairs.items():
        if key in fixed:
            continue
        field = spec.get(key)
        if field is None:
            return None  # a field this tap never carries
        try:
            out[key] = field.parse(raw)
        except ValueError:
            return None
    if any(f.required and key not in out for key, f in spec.items()):
        return None
    return out


def parse(data: str | None) -> dict[str, Any] | None:
    """The typed fields of a postback, or None if it is not one the bot could have sent.

    Keys stay as on the wire (``a``, ``id``, ``v``…); ids and numbers come back as ``int``.
    """
    if not data or len(data) > MAX_DATA:
        return None
    try:
        pairs = parse_qsl(data, keep_blank_values=True, strict_parsing=True, max_num_fields=10)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        return None  # a key given twice
    kinds = [k for k in ("a", "cmd", "c", "f") if k in fields]
    if len(kinds) != 1:
        return None
    kind = kinds[0]
    if kind == "a":
        spec = ACTIONS.get(fields["a"])
        return None if spec is None else _fields(fields, {**spec, **SWITCH}, {"a": fields["a"]})
    if kind == "cmd":
        if not _NAME.fullmatch(fields["cmd"]):
            return None
        return _fields(fields, SWITCH, {"cmd": fields["cmd"]})
    if kind == "c":
        return {"c": fields["c"]} if fields["c"] in CONTROLS and len(fields) == 1 else None
    # a flow step's button
    if not _NAME.fullmatch(fields["f"]) or not _NAME.fullmatch(fields.get("s", "")):
        return None
    if sum(k in fields for k in STEP_FIELDS) > 1:
        return None
    optional = {k: Field(f.parse, required=False) for k, f in STEP_FIELDS.items()}
    return _fields(fields, optional, {"f": fields["f"], "s": fields["s"]})


def encode(**fields: object) -> str:
    """Postback data for a button; raises ValueError for data :func:`parse` would refuse.

    Fields that are None are left out, so optional ones can be passed through.
    """
    data = urlencode({k: str(v) for k, v in fields.items() if v is not None})
    if len(data) > MAX_DATA:
        raise ValueError(f"postback data too long ({len(data)}): {data[:60]}…")
    if parse(data) is None:
        raise ValueError(f"postback data outside the schema: {data[:80]}")
    return data
