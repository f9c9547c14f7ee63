"""Step kinds: each knows how to ask, how to read an answer, and how to show it.

A step never talks to LINE or the database directly except to list its
options; the engine decides what happens next.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from linebot.v3.messaging import Message

from .. import thai
from ..context import Context, Input
from ..i18n import N_, _, in_both_languages
from ..postback import encode
from ..ui import QUICK_LABEL, Chip, text

PAGE_SIZE = 10  # options per page: leaves room for "more", "back" and "cancel" within 13


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # already in the reader's language
    names: tuple[str, ...] = ()  # other things people type for it (Thai/English names, aliases)


@dataclass(frozen=True)
class Group:
    value: str
    label: str
    options: tuple[Option, ...]


@dataclass
class Answer:
    value: Any


@dataclass
class Retry:
    """Bad input: say why (kindly) and ask again."""

    reason: str


@dataclass
class Redraw:
    """The step changed what it shows (a page, a region, a toggle) but is not answered yet."""

    note: str | None = None


Outcome = Answer | Retry | Redraw


@dataclass
class StepView:
    """What the engine hands a step: its flow/step names (for postback data) and scratch state."""

    flow: str
    step: str
    view: dict[str, Any]
    answers: dict[str, Any]

    def data(self, **fields: object) -> str:
        return encode(f=self.flow, s=self.step, **fields)


class Step:
    """Base step: a prompt message id, an optional summary label, and rules to skip it."""

    expects = "text"

    def __init__(
        self,
        name: str,
        prompt: str,
        *,
        label: str | None = None,
        optional: bool = False,
        skip_if: Callable[[Context, dict[str, Any]], bool] | None = None,
        on_answer: Callable[[Context, Any], None] | None = None,
        default: Callable[[Context, dict[str, Any]], Any] | None = None,
        ask: bool = True,
        skip_label: str = N_("common.skip"),
    ) -> None:
        self.name = name
        self.prompt = prompt
        self.label = label  # message id of the field name on the confirm card; None = not shown
        self.optional = optional
        self.skip_if = skip_if
        # An answer the flow can work out (the organization's own issue, today): used instead of
        # asking, shown on the summary card and changeable there. None = ask after all.
        self.default = default
        # False: never asked on the way, only offered on the summary card (a location).
        self.ask = ask
        # Message id of the skip chip of an optional step; typed, it skips too (as do thai.SKIP_WORDS).
        self.skip_label = skip_label
        # Side effect as soon as the step is answered (e.g. a chosen language applies at once).
        self.on_answer = on_answer

    # -- asking
    def question(self, ctx: Context, sv: StepView) -> str:
        return _(self.prompt)

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        return []

    def render(self, ctx: Context, sv: StepView, nav: list[Chip], note: str | None = None) -> list[Message]:
        body = self.question(ctx, sv)
        if note:
            body = f"{note}\n\n{body}"
        chips = self.chips(ctx, sv)
        if self.optional:
            chips.append(Chip(_(self.skip_label), sv.data(x="skip")))
        return [text(body, _fit(chips, nav))]

    # -- answering
    def is_skip(self, inp: Input) -> bool:
        """An optional step is skipped by its chip, or by typing a skip word or the chip's words."""
        if not self.optional:
            return False
        if inp.kind == "postback":
            return inp.data.get("x") == "skip"
        return inp.is_text and (thai.is_skip(inp.text) or thai.command_key(inp.text) in {
            thai.command_key(label) for label in in_both_languages(self.skip_label)})

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if self.is_skip(inp):
            return Answer(None)
        if inp.kind == "postback" and "v" in inp.data:
            return self.parse_value(ctx, sv, inp.data["v"])
        if inp.kind != "text":
            return Retry(_("flow.expect_text"))
        return self.parse_text(ctx, sv, inp.text)

    def parse_value(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        return self.parse_text(ctx, sv, value)

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        raise NotImplementedError

    # -- showing
    def show(self, ctx: Context, value: Any) -> str:
        if value is None or value == "" or value == []:
            return _("common.not_given")
        return str(value)


def _fit(chips: list[Chip], nav: list[Chip]) -> list[Chip]:
    """Step chips first, navigation last, never more than LINE's 13."""
    room = 13 - len(nav)
    return chips[:room] + nav


class Text(Step):
    """Words: a name, a title, a description. `words=False` would take any characters."""

    def __init__(self, name: str, prompt: str, *, max_len: int = 200, min_len: int = 1, words: bool = True,
                 **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        self.max_len = max_len
        self.min_len = min_len
        self.words = words

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if inp.is_text and inp.raw and not self.is_skip(inp):
            # Free text is stored as written (lines, Thai digits), not in its matching form.
            return self.parse_text(ctx, sv, thai.clean_text(inp.raw))
        return super().accept(ctx, sv, inp)

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        if len(value) < self.min_len:
            return Retry(_("flow.text_too_short", min=self.min_len))
        if len(value) > self.max_len:
            # Never cut silently: tell them how long it was and the limit.
            return Retry(_("flow.text_too_long", length=thai.format_number(len(value), ctx.locale),
                           max=thai.format_number(self.max_len, ctx.locale)))
        if self.words and not thai.has_words(value):
            # Emoji, digits, dots or "ๆๆๆ" say nothing: ask for this field in letters.
            if self.label:
                return Retry(_("flow.need_words_field", field=_(self.label)))
            return Retry(_("flow.need_words"))
        return Answer(value)


class Number(Step):
    def __init__(self, name: str, prompt: str, *, min_value: int = 0, max_value: int = 10_000_000,
                 suggestions: Sequence[int] = (), **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        self.min_value = min_value
        self.max_value = max_value
        self.suggestions = suggestions

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        return [Chip(thai.format_number(n, ctx.locale), sv.data(v=n)) for n in self.suggestions]

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        n = thai.parse_int(value)
        if n is None:
            return Retry(_("flow.number_invalid"))
        if not self.min_value <= n <= self.max_value:
            return Retry(_("flow.number_range", min=thai.format_number(self.min_value, ctx.locale),
                           max=thai.format_number(self.max_value, ctx.locale)))
        return Answer(n)

    def show(self, ctx: Context, value: Any) -> str:
        return _("common.not_given") if value is None else thai.format_number(value, ctx.locale)


class Amount(Step):
    """Baht, stored as a string so JSON state keeps it exact."""

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        unit = thai.unit_after_number(value)
        if unit is not None:  # "ประมาณ 40 คน" is people, not 40 baht
            return Retry(_("flow.amount_not_baht", unit=unit))
        amount = thai.parse_amount(value)
        if amount is None or amount < 0 or amount > Decimal("1000000000"):
            return Retry(_("flow.amount_invalid"))
        return Answer(str(amount))

    def show(self, ctx: Context, value: Any) -> str:
        if value is None:  # skipped: say it in the skip chip's words ("ไม่ได้ใช้งบ") when it has its own
            return _(self.skip_label) if self.optional and self.skip_label != "common.skip" else _("common.not_given")
        return thai.format_baht(Decimal(value), ctx.locale)


class Phone(Step):
    def __init__(self, name: str, prompt: str, *, suggest: Callable[[Context], str | None] | None = None,
                 **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        self.suggest = suggest  # a number offered as a chip (the person's own)

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        known = self.suggest(ctx) if self.suggest else None
        if known:
            shown = thai.format_phone(known)
            return [Chip(shown, sv.data(v=known), display=shown)]
        return []

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        phone = thai.parse_phone(value)
        return Answer(phone) if phone else Retry(_("flow.phone_invalid"))

    def show(self, ctx: Context, value: Any) -> str:
        return thai.format_phone(value) if value else _("common.not_given")


class Year(Step):
    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        return []

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        year = thai.parse_year(value, today=ctx.today)
        return Answer(year) if year else Retry(_("flow.year_invalid"))

    def show(self, ctx: Context, value: Any) -> str:
        if value is None:
            return _("common.not_given")
        return _("common.year_be_ce", be=value + 543, ce=value)


class DateStep(Step):
    """A date: the LINE date picker, "today"/"yesterday" chips, or typed Thai/English dates."""

    def __init__(self, name: str, prompt: str, *, allow_future: bool = False, max_past_days: int = 3650,
                 **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        self.allow_future = allow_future
        self.max_past_days = max_past_days

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        today = ctx.today
        picker = Chip(_("common.pick_date"), sv.data(), kind="date", initial=today.isoformat(),
                      max=None if self.allow_future else today.isoformat(),
                      min=(today - timedelta(days=self.max_past_days)).isoformat())
        return [
            Chip(_("common.today"), sv.data(v=today.isoformat()), display=_("common.today")),
            Chip(_("common.yesterday"), sv.data(v=(today - timedelta(days=1)).isoformat()),
                 display=_("common.yesterday")),
            picker,
        ]

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if inp.kind == "postback" and "date" in inp.params:
            return self._check(ctx, _parse_iso(inp.params["date"]))
        return super().accept(ctx, sv, inp)

    def parse_value(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        return self._check(ctx, _parse_iso(value))

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        return self._check(ctx, thai.parse_date(value, today=ctx.today))

    def _check(self, ctx: Context, day: date | None) -> Outcome:
        if day is None:
            return Retry(_("flow.date_invalid"))
        if not self.allow_future and day > ctx.today:
            return Retry(_("flow.date_future"))
        if day < ctx.today - timedelta(days=self.max_past_days):
            return Retry(_("flow.date_too_old"))
        return Answer(day.isoformat())

    def show(self, ctx: Context, value: Any) -> str:
        return thai.format_date(date.fromisoformat(value), ctx.locale) if value else _("common.not_given")


class DateTime(Step):
    """A moment: LINE's date-time picker, or typed ("25/12/2569 14:00", "พรุ่งนี้ บ่าย 2 โมง").

    Stored as an ISO string in UTC. ``future_only`` refuses moments that have passed; ``after``
    names an earlier step whose moment this one must follow, refused with ``after_message``
    (a message id naming both fields, since only the flow knows what they mean).
    """

    def __init__(self, name: str, prompt: str, *, future_only: bool = True, after: str | None = None,
                 after_message: str | None = None, **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        if after is not None and after_message is None:
            raise ValueError("a DateTime step with `after` needs an `after_message`")
        self.future_only = future_only
        self.after = after
        self.after_message = after_message

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        local = ctx.local_now.replace(second=0, microsecond=0)
        # The picker opens on the first whole hour at least an hour ahead; LINE wants initial ≥ min,
        # and min is the next whole minute so whatever is picked has not passed yet.
        ahead = local + timedelta(hours=1)
        initial = ahead if ahead.minute == 0 else ahead.replace(minute=0) + timedelta(hours=1)
        earliest = local + timedelta(minutes=1)
        return [Chip(_("flow.datetime_pick"), sv.data(), kind="datetime",
                     initial=initial.strftime("%Y-%m-%dT%H:%M"), min=earliest.strftime("%Y-%m-%dT%H:%M"))]

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if inp.kind == "postback" and "datetime" in inp.params:
            return self.parse_text(ctx, sv, inp.params["datetime"])
        return super().accept(ctx, sv, inp)

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        moment = thai.parse_datetime(value, today=ctx.today, tz=ctx.settings.timezone)
        if moment is None:
            return Retry(_("flow.datetime_invalid"))
        if self.future_only and moment <= ctx.now:
            return Retry(_("flow.datetime_past"))
        earlier = sv.answers.get(self.after) if self.after else None
        if earlier and self.after_message and moment <= datetime.fromisoformat(earlier):
            return Retry(_(self.after_message))
        return Answer(moment.isoformat())

    def show(self, ctx: Context, value: Any) -> str:
        if not value:
            return _("common.not_given")
        return thai.format_datetime(datetime.fromisoformat(value), ctx.locale, ctx.settings.timezone)


def _parse_iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class Choice(Step):
    """Pick one option by tapping or typing (fuzzy). Long lists are paged or grouped.

    With `groups` (e.g. region → province) the person first picks a group, then
    an option inside it; typing any option's name works at either level.
    """

    def __init__(
        self,
        name: str,
        prompt: str,
        *,
        options: Callable[[Context, dict[str, Any]], Sequence[Option]],
        groups: Callable[[Context, dict[str, Any]], Sequence[Group]] | None = None,
        group_prompt: str | None = None,
        unknown: str = N_("flow.choice_unknown"),
        **kw: Any,
    ) -> None:
        super().__init__(name, prompt, **kw)
        self.options = options
        self.groups = groups
        self.group_prompt = group_prompt
        self.unknown = unknown

    def _at_groups(self, ctx: Context, sv: StepView) -> bool:
        """Showing the groups (not yet inside one, not a list of typed matches)? `groups` may give
        none (a short list needs no grouping): then the options are shown as they are."""
        return (self.groups is not None and "g" not in sv.view and not sv.view.get("candidates")
                and bool(self.groups(ctx, sv.answers)))

    def group_chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        return [Chip(g.label, sv.data(g=g.value)) for g in self.groups(ctx, sv.answers)][:PAGE_SIZE + 1]

    def question(self, ctx: Context, sv: StepView) -> str:
        if sv.view.get("candidates"):
            asked = _("flow.did_you_mean")
        elif self.group_prompt and self._at_groups(ctx, sv):
            return _(self.group_prompt)
        else:
            asked = _(self.prompt)
        numbered = self._numbered(ctx, sv)
        if numbered:
            # Chips would show the same cut label twice: the full names are listed, chips say 1, 2, …
            listing = "\n".join(f"{n}. {o.label}" for n, o in enumerate(numbered, 1))
            return f"{asked}\n{listing}"
        return asked

    def _page(self, ctx: Context, sv: StepView) -> tuple[list[Option], bool]:
        """The options shown now, and whether more follow."""
        options = self._visible(ctx, sv)
        room = self._page_size()
        if len(options) <= room + 1:  # all fit without a "more" chip (e.g. "other" as the 10th type)
            return options, False
        start = int(sv.view.get("p", 0)) * room
        return options[start:start + room], start + room < len(options)

    def _numbered(self, ctx: Context, sv: StepView) -> list[Option]:
        """The options on this page, if two of them would look the same once cut to a chip's length."""
        if self._at_groups(ctx, sv):
            return []
        shown, _more = self._page(ctx, sv)
        labels = [thai.truncate(o.label, QUICK_LABEL) for o in shown]
        return shown if len(set(labels)) < len(labels) else []

    def _visible(self, ctx: Context, sv: StepView) -> list[Option]:
        if sv.view.get("candidates"):
            wanted = sv.view["candidates"]
            by_value = {o.value: o for o in self.options(ctx, sv.answers)}
            return [by_value[v] for v in wanted if v in by_value]
        if self.groups and "g" in sv.view:
            for group in self.groups(ctx, sv.answers):
                if group.value == sv.view["g"]:
                    return list(group.options)
        return list(self.options(ctx, sv.answers))

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        if self._at_groups(ctx, sv):
            return self.group_chips(ctx, sv)
        page = int(sv.view.get("p", 0))
        shown, more = self._page(ctx, sv)
        if self._numbered(ctx, sv):
            chips = [Chip(str(n), sv.data(v=o.value), display=o.label) for n, o in enumerate(shown, 1)]
        else:
            chips = [Chip(o.label, sv.data(v=o.value)) for o in shown]
        if more:
            chips.append(Chip(_("common.more"), sv.data(p=page + 1)))
        elif page > 0:
            chips.append(Chip(_("common.first_page"), sv.data(p=0)))
        if self.groups and "g" in sv.view:
            chips.append(Chip(_("common.other_groups"), sv.data(g="")))
        return chips

    def _page_size(self) -> int:
        """Options per page, leaving room for this step's own chips ("more", "other regions",
        "skip") and the engine's (keep, back, cancel): the paging chips must never be cut."""
        return 13 - 3 - 1 - bool(self.groups) - bool(self.optional)

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if inp.kind == "postback":
            if "g" in inp.data:
                sv.view.pop("p", None)
                sv.view.pop("candidates", None)
                if inp.data["g"]:
                    sv.view["g"] = inp.data["g"]
                else:
                    sv.view.pop("g", None)
                return Redraw()
            if "p" in inp.data:
                sv.view["p"] = inp.data["p"]  # an int, checked by bot.postback
                return Redraw()
        return super().accept(ctx, sv, inp)

    def parse_value(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        # Postback data is never trusted: the value must be one of today's options.
        if any(o.value == value for o in self.options(ctx, sv.answers)):
            return Answer(value)
        return Retry(_("flow.choice_invalid"))

    def parse_text(self, ctx: Context, sv: StepView, value: str) -> Outcome:
        numbered = self._numbered(ctx, sv)
        number = thai.parse_int(value) if numbered else None
        if number is not None and 1 <= number <= len(numbered) and thai.command_key(value).isdigit():
            return Answer(numbered[number - 1].value)  # "2" typed for the second in the list
        options = self.options(ctx, sv.answers)
        matches = thai.match_name(value, [(o.value, (o.label, *o.names)) for o in options])
        if len(matches) == 1:
            return Answer(matches[0])
        if matches:
            sv.view["candidates"] = list(matches)
            sv.view.pop("p", None)
            return Redraw()
        return Retry(_(self.unknown))

    def show(self, ctx: Context, value: Any) -> str:
        for option in self.options(ctx, {}):
            if option.value == value:
                return option.label
        return super().show(ctx, value)


class MultiChoice(Step):
    """Pick several: each tap toggles a ✓, then "done". Typing a name toggles it too."""

    def __init__(self, name: str, prompt: str, *,
                 options: Callable[[Context, dict[str, Any]], Sequence[Option]],
                 min_count: int = 1, **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        self.options = options
        self.min_count = min_count

    def _selected(self, sv: StepView) -> list[str]:
        return list(sv.view.get("sel", []))

    def question(self, ctx: Context, sv: StepView) -> str:
        chosen = [o.label for o in self.options(ctx, sv.answers) if o.value in self._selected(sv)]
        base = _(self.prompt)
        if chosen:
            return base + "\n" + _("flow.selected", items=", ".join(chosen))
        return base

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        selected = self._selected(sv)
        chips = [
            Chip(("✓ " if o.value in selected else "") + o.label, sv.data(t=o.value), display=o.label)
            for o in self.options(ctx, sv.answers)
        ][:PAGE_SIZE]
        if len(selected) >= self.min_count:
            chips.insert(0, Chip(_("common.done"), sv.data(x="done")))
        return chips

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        valid = [o.value for o in self.options(ctx, sv.answers)]
        selected = self._selected(sv)
        if inp.kind == "postback" and "t" in inp.data:
            value = inp.data["t"]
            if value not in valid:
                return Retry(_("flow.choice_invalid"))
            selected = [v for v in selected if v != value] if value in selected else selected + [value]
            sv.view["sel"] = [v for v in valid if v in selected]
            return Redraw()
        if inp.kind == "postback" and inp.data.get("x") == "done" or (inp.is_text and thai.is_done(inp.text)):
            if len(selected) < self.min_count:
                return Retry(_("flow.pick_at_least", n=self.min_count))
            return Answer([v for v in valid if v in selected])
        if inp.is_text:
            matches = thai.match_name(inp.text, [(o.value, (o.label, *o.names)) for o in self.options(ctx, sv.answers)])
            if matches:
                value = matches[0]
                if value not in selected:
                    sv.view["sel"] = [v for v in valid if v in selected + [value]]
                return Redraw()
            return Retry(_("flow.choice_unknown"))
        return Retry(_("flow.expect_tap"))

    def enter(self, sv: StepView, previous: Any) -> None:
        """Coming back to this step: start from the earlier selection."""
        if previous:
            sv.view["sel"] = list(previous)

    def show(self, ctx: Context, value: Any) -> str:
        if not value:
            return _("common.not_given")
        labels = {o.value: o.label for o in self.options(ctx, {})}
        return ", ".join(labels.get(v, v) for v in value)


class LocationStep(Step):
    expects = "location"

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        return [Chip(_("common.send_location"), kind="location")]

    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        if inp.kind == "location" and inp.location:
            return Answer(inp.location)
        if self.is_skip(inp):
            return Answer(None)
        return Retry(_("flow.expect_location"))

    def show(self, ctx: Context, value: Any) -> str:
        if not value:
            return _("common.not_given")
        return value.get("address") or value.get("title") or f"{value['latitude']:.5f}, {value['longitude']:.5f}"

