"""The conversation engine: runs declared flows, persists where each person is.

Cancel, back, menu, expiry, resume, stale buttons, bad input and the confirm
card are handled here once, so a capability only declares its steps and the
function that saves the result.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from linebot.v3.messaging import Message
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from .. import postback, thai, ui
from ..context import Context, Input
from ..i18n import _
from ..models import ConversationState
from ..refusal import Refusal
from .steps import Answer, MultiChoice, Redraw, Retry, Step, StepView

log = logging.getLogger(__name__)

CONFIRM = "__confirm"
EDITING = "_editing"  # answers key: the flow is changing a saved record
RESUME_OFFERED = "_resume_offered"  # view key: an expired flow's resume offer was made
PRESET = "_preset"  # answers key: what the flow was started with, kept for "start over"
AUTO = "_auto"  # answers key: steps answered by their default, not by the person (re-derived on change)
DEFAULT_TTL = timedelta(hours=24)


@dataclass
class Flow:
    name: str
    title: str  # message id naming the task ("registering an organization")
    steps: list[Step]
    # Saves the answers; raises Refusal when saving must not happen (nothing is saved then).
    on_complete: Callable[[Context, dict[str, Any]], list[Message]]
    confirm_title: str | None = None  # message id of the summary card; None saves right away
    # Task name while changing something already saved (opened at the card), so "cancel"
    # does not sound as if the saved record were lost. Verb phrases without การ, like `title`.
    edit_title: str | None = None
    ttl: timedelta = DEFAULT_TTL
    # LINE reads (bot.lineport names) its on_complete uses: fetched before an event that may
    # complete the flow opens its transaction (see completes_from), so no lock waits on LINE.
    needs: frozenset[str] = frozenset()
    _by_name: dict[str, Step] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.steps}
        if len(self._by_name) != len(self.steps):
            raise ValueError(f"flow {self.name}: duplicate step names")

    def step(self, name: str) -> Step | None:
        return self._by_name.get(name)

    def completes_from(self, step: str) -> bool:
        """Can an answer at this step complete the flow? With a summary card only its "save";
        without one, any answer (the engine skips steps that need no asking)."""
        return step == CONFIRM or self.confirm_title is None


class FlowEngine:
    def __init__(self, flows: list[Flow]) -> None:
        self.flows = {f.name: f for f in flows}

    # ---- state ----------------------------------------------------------------
    def state_of(self, ctx: Context) -> ConversationState | None:
        if ctx.member is None:
            return None
        return ctx.session.scalar(select(ConversationState).where(ConversationState.member_id == ctx.member.id))

    def _save(self, ctx: Context, state: ConversationState, flow: Flow) -> None:
        state.updated_at = ctx.now
        state.expires_at = ctx.now + flow.ttl
        # In-place changes to JSON values are invisible to the ORM (an autoflush may already
        # have snapshotted the same object), so say explicitly that they changed.
        for column in ("answers", "history", "view"):
            flag_modified(state, column)

    def clear(self, ctx: Context) -> None:
        state = self.state_of(ctx)
        if state is not None:
            ctx.session.delete(state)

    # ---- entry points ---------------------------------------------------------
    def start(self, ctx: Context, name: str, answers: dict[str, Any] | None = None,
              intro: str | None = None, at_confirm: bool = False) -> list[Message]:
        """Begin a flow (replacing any other). `at_confirm` opens the summary card of known answers."""
        flow = self.flows[name]
        assert ctx.member is not None, "flows run in 1:1 chats only"
        state = self.state_of(ctx)
        offer = self._switch_offer(ctx, state)
        if offer:
            return offer
        if state is None:
            state = ConversationState(member_id=ctx.member.id, flow=name, step="", expires_at=ctx.now)
            ctx.session.add(state)
        preset = dict(answers or {})
        state.flow, state.answers, state.history, state.view = name, dict(preset), [], {}
        # Starting over must keep what the flow was opened for (which organization to reject,
        # which report to correct), or the restarted flow would act on nothing, or on a new record.
        state.answers[PRESET] = preset
        if at_confirm:
            state.answers[EDITING] = True
        state.started_at = ctx.now
        first = None if at_confirm else self._next_step(ctx, flow, state.answers)
        if first is None:  # nothing to ask: straight to the card or save
            return self._finish_or_confirm(ctx, flow, state)
        state.step = first.name
        self._save(ctx, state, flow)
        messages = self._render(ctx, flow, state)
        if intro:
            messages.insert(0, ui.text(intro))
        return messages

    def _switch_offer(self, ctx: Context, state: ConversationState | None) -> list[Message] | None:
        """A button would start a flow while another is under way: ask before dropping answers."""
        tap = ctx.confirm_switch
        if tap is None or state is None or not (state.history or state.step == CONFIRM):
            return None
        try:
            again = postback.encode(**{**tap.data, "sw": "1"})
        except ValueError:  # forged, over-long data: no offer, and nothing started
            return [ui.text(_("common.unknown_button"))]
        return [ui.text(_("flow.switch_offer", task=self.task(self.flows[state.flow], state)), [
            ui.Chip(_("flow.continue"), postback.encode(c="resume")),
            ui.Chip(_("flow.switch"), again),
        ])]

    def offers_word(self, ctx: Context, state: ConversationState, text: str) -> bool:
        """Does the question under way offer these words as one of its answers (a chip's label)?"""
        if state.step == CONFIRM or state.flow not in self.flows:
            return False
        flow = self.flows[state.flow]
        step = flow.step(state.step)
        if step is None:
            return False
        key = thai.command_key(text)
        chips = step.chips(ctx, StepView(flow.name, step.name, state.view, state.answers))
        return any(thai.command_key(chip.display or chip.label) == key for chip in chips)

    def drop_if_offer_ignored(self, ctx: Context, state: ConversationState, inp: Input) -> bool:
        """An expired conversation is offered for resuming once; a person who answers that offer
        with something else has moved on: the old conversation is dropped (True) and the message
        is handled as if none were under way, instead of being met with the same offer again."""
        if state.expires_at >= ctx.now or not (state.view or {}).get(RESUME_OFFERED):
            return False
        if _global_command(inp) in ("resume", "restart", "cancel"):
            return False
        ctx.session.delete(state)
        ctx.session.flush()
        return True

    def current(self, ctx: Context, state: ConversationState, note: str | None = None) -> list[Message]:
        """Ask the current question again (e.g. after a repeated tap on a card that began this flow)."""
        flow = self.flows[state.flow]
        return self._render(ctx, flow, state, note=note)

    def handle(self, ctx: Context, state: ConversationState, inp: Input) -> list[Message]:
        flow = self.flows.get(state.flow)
        if flow is None:  # a flow removed by a deploy: drop it politely
            ctx.session.delete(state)
            return [ui.text(_("flow.gone"))]
        # Steps mutate these in place; _save flags them so the change is always written.
        state.answers, state.history, state.view = (copy.deepcopy(state.answers), copy.deepcopy(state.history),
                                                    copy.deepcopy(state.view))
        command = _global_command(inp)

        if state.expires_at < ctx.now and command not in ("resume", "restart", "cancel"):
            return self._offer_resume(ctx, flow, state)
        if command == "cancel":
            ctx.session.delete(state)
            return [ui.text(_("flow.cancelled", task=self.task(flow, state)))]
        state.view.pop(RESUME_OFFERED, None)
        if command == "resume":
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state, note=_("flow.resumed"))
        if command == "restart":
            return self.start(ctx, flow.name, answers=state.answers.get(PRESET),
                              at_confirm=bool(state.answers.get(EDITING)))
        if command == "back":
            return self._back(ctx, flow, state)

        if inp.kind == "postback" and "f" in inp.data:
            if inp.data.get("f") != state.flow or inp.data.get("s") != state.step:
                return self._render(ctx, flow, state, note=_("flow.stale_button"))
        if state.step == CONFIRM:
            return self._on_confirm(ctx, flow, state, inp)

        step = flow.step(state.step)
        if step is None:  # the step was renamed away: re-ask from the first unanswered
            nxt = self._next_step(ctx, flow, state.answers)
            state.step = nxt.name if nxt else CONFIRM
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state)
        sv = StepView(flow.name, step.name, state.view, state.answers)
        if inp.kind == "postback" and inp.data.get("x") == "keep" and "prev" in state.view:
            outcome: Answer | Retry | Redraw = Answer(state.view["prev"])
        else:
            outcome = step.accept(ctx, sv, inp)
        if isinstance(outcome, Redraw):
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state, note=outcome.note)
        if isinstance(outcome, Retry):
            self._save(ctx, state, flow)
            reason = outcome.reason
            if step.optional:  # every refusal on a question one may skip says how
                reason = "\n".join([reason, _("flow.how_to_skip", skip=_(step.skip_label))])
            return self._render(ctx, flow, state, note=reason)
        if step.name in state.answers.get(AUTO, []):
            state.answers[AUTO] = [n for n in state.answers[AUTO] if n != step.name]
        return self._advance(ctx, flow, state, step, outcome.value)

    # ---- moving ----------------------------------------------------------------
    def _advance(self, ctx: Context, flow: Flow, state: ConversationState, step: Step, value: Any) -> list[Message]:
        editing = bool(state.view.get("edit"))
        if step.on_answer is not None:
            step.on_answer(ctx, value)
        state.history = [*state.history, {"step": step.name, "answers": dict(state.answers)}]
        state.answers = {**state.answers, step.name: value}
        if editing:
            self._forget_derived(flow, state, step)
        state.view = {}
        nxt = self._next_step(ctx, flow, state.answers)
        if editing and nxt is not None:
            # The change made another question necessary (e.g. a budget now needs its source):
            # ask it, then return to the card.
            state.view = {"edit": True}
        elif editing:
            state.step = CONFIRM
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state)
        if nxt is None:
            return self._finish_or_confirm(ctx, flow, state)
        state.step = nxt.name
        self._enter(flow, state, nxt, state.answers.get(nxt.name))
        self._save(ctx, state, flow)
        return self._render(ctx, flow, state)

    def _enter(self, flow: Flow, state: ConversationState, step: Step, previous: Any) -> None:
        """Arriving at a step that already had an answer (back, edit): offer to keep it."""
        if previous is not None:
            state.view["prev"] = previous
            if isinstance(step, MultiChoice):
                step.enter(StepView(flow.name, step.name, state.view, state.answers), previous)

    def _back(self, ctx: Context, flow: Flow, state: ConversationState) -> list[Message]:
        if state.view.get("edit"):
            state.step, state.view = CONFIRM, {}
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state)
        if not state.history:
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state, note=_("flow.at_first_step"))
        entry = state.history.pop()
        # The answer given at that step is offered again ("keep"), not lost.
        previous = state.answers.get(entry["step"])
        state.answers = dict(entry["answers"])
        state.step = entry["step"]
        state.view = {}
        step = flow.step(entry["step"])
        if step is not None:
            self._enter(flow, state, step, previous)
        self._save(ctx, state, flow)
        return self._render(ctx, flow, state)

    @staticmethod
    def _forget_derived(flow: Flow, state: ConversationState, changed: Step) -> None:
        """A change at the summary card: answers that were derived (defaults) from the steps
        before are derived again, so a report's issue follows a newly chosen organization. A step
        the person answered themselves is theirs from then on."""
        auto = [name for name in state.answers.get(AUTO, []) if name != changed.name]
        order = [s.name for s in flow.steps]
        later = {name for name in auto if name in order and order.index(name) > order.index(changed.name)}
        for name in later:
            state.answers.pop(name, None)
        state.answers[AUTO] = [name for name in auto if name not in later]

    def _next_step(self, ctx: Context, flow: Flow, answers: dict[str, Any]) -> Step | None:
        """The first step, in declared order, that is neither answered nor skipped.

        A step with a default (the organization's own issue, today) is answered with it instead
        of being asked, and marked as derived (AUTO); a step that is only offered (`ask=False`,
        e.g. a location) is not asked: both are shown on the summary card, where they can be changed.
        Deciding by answers rather than by position keeps saved conversations
        right when a deploy inserts, removes or reorders steps.
        """
        for step in flow.steps:
            if step.name in answers or (step.skip_if is not None and step.skip_if(ctx, answers)):
                continue
            if not step.ask:
                continue
            if step.default is not None:
                value = step.default(ctx, answers)
                if value is not None:
                    answers[step.name] = value
                    answers[AUTO] = [*answers.get(AUTO, []), step.name]  # a new list: history shares the old
                    continue
            return step
        return None

    def _finish_or_confirm(self, ctx: Context, flow: Flow, state: ConversationState) -> list[Message]:
        if flow.confirm_title:
            state.step, state.view = CONFIRM, {}
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state)
        return self._complete(ctx, flow, state)

    def _complete(self, ctx: Context, flow: Flow, state: ConversationState) -> list[Message]:
        try:
            # The engine's own bookkeeping keys (_preset, _editing) are not answers.
            answers = {k: v for k, v in state.answers.items() if not k.startswith("_")}
            messages = flow.on_complete(ctx, answers)
        except Refusal as refusal:  # saving must not happen (e.g. lost permission, decided meanwhile)
            if refusal.end_flow:
                ctx.session.delete(state)
            return [ui.text(refusal.message, refusal.chips or ())]
        ctx.session.delete(state)
        return messages

    def _on_confirm(self, ctx: Context, flow: Flow, state: ConversationState, inp: Input) -> list[Message]:
        if inp.kind == "postback" and inp.data.get("x") == "save":
            return self._complete(ctx, flow, state)
        offered = _offered_location(flow)
        if inp.kind == "location" and inp.location and offered is not None:
            # The location is offered on the card, not asked: sending it fills that row.
            state.answers = {**state.answers, offered.name: inp.location}
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state, note=_("flow.location_received"))
        target = inp.data.get("e") if inp.kind == "postback" else None
        step = flow.step(target) if target else None
        if step is not None and not (step.skip_if and step.skip_if(ctx, state.answers)):
            state.step, state.view = step.name, {"edit": True}
            self._enter(flow, state, step, state.answers.get(step.name))
            self._save(ctx, state, flow)
            return self._render(ctx, flow, state)
        if inp.is_text and thai.is_yes(inp.text):
            return self._complete(ctx, flow, state)
        return self._render(ctx, flow, state, note=_("flow.confirm_hint"))

    # ---- showing ---------------------------------------------------------------
    @staticmethod
    def task(flow: Flow, state: ConversationState) -> str:
        """What the person is doing, in words: creating, or changing something saved."""
        editing = state.answers.get(EDITING) and flow.edit_title
        return _(flow.edit_title if editing else flow.title)

    def _nav(self, flow: Flow, state: ConversationState) -> list[ui.Chip]:
        chips = []
        # A multi-pick restores the earlier selection itself, so it needs no "keep" chip.
        if "prev" in state.view and state.step != CONFIRM and not isinstance(flow.step(state.step), MultiChoice):
            chips.append(ui.Chip(_("flow.keep_answer"), postback.encode(f=flow.name, s=state.step, x="keep")))
        if state.history or state.view.get("edit"):
            chips.append(ui.Chip(_("common.back"), postback.encode(c="back"), display=_("common.back")))
        chips.append(ui.Chip(_("common.cancel"), postback.encode(c="cancel"), display=_("common.cancel")))
        return chips

    def _render(self, ctx: Context, flow: Flow, state: ConversationState, note: str | None = None) -> list[Message]:
        if state.step == CONFIRM:
            return self._render_confirm(ctx, flow, state, note)
        step = flow.step(state.step)
        assert step is not None
        sv = StepView(flow.name, step.name, state.view, state.answers)
        if "prev" in state.view:
            shown = step.show(ctx, state.view["prev"])
            note = "\n".join(filter(None, [note, _("flow.previous_answer", answer=shown)]))
        return step.render(ctx, sv, self._nav(flow, state), note)

    def _render_confirm(self, ctx: Context, flow: Flow, state: ConversationState, note: str | None) -> list[Message]:
        rows = []
        for step in flow.steps:
            if step.label is None:
                continue
            skipped = step.skip_if is not None and step.skip_if(ctx, state.answers)
            if skipped and state.answers.get(step.name) is None:
                continue
            # A skipped step with a preset answer (the only organization) is shown, not editable.
            rows.append(ui.Row(_(step.label), step.show(ctx, state.answers.get(step.name)),
                               edit_data=None if skipped else postback.encode(f=flow.name, s=CONFIRM, e=step.name)))
        card = ui.card(
            _(flow.confirm_title or flow.title),
            rows,
            note=_("flow.confirm_note"),
            edit_label=_("common.edit"),
            buttons=[
                ui.button(_("common.save"), postback.encode(f=flow.name, s=CONFIRM, x="save"), style="primary"),
                ui.button(_("common.cancel"), postback.encode(c="cancel")),
            ],
        )
        messages: list[Message] = [ui.text(note)] if note else []
        messages.append(card)
        offered = _offered_location(flow)
        return ui.attach_chips(messages, [
            ui.Chip(_("common.save"), postback.encode(f=flow.name, s=CONFIRM, x="save")),
            *([ui.Chip(_("common.send_location"), kind="location")] if offered is not None else []),
            ui.Chip(_("common.back"), postback.encode(c="back"), display=_("common.back")),
            ui.Chip(_("common.cancel"), postback.encode(c="cancel"), display=_("common.cancel")),
        ])

    def _offer_resume(self, ctx: Context, flow: Flow, state: ConversationState) -> list[Message]:
        # Marked without _save, which would renew the expiry: the offer is made once.
        state.view[RESUME_OFFERED] = True
        flag_modified(state, "view")
        return [ui.text(
            _("flow.expired_offer", task=self.task(flow, state),
              date=thai.format_date(state.updated_at.astimezone(ctx.settings.timezone).date(), ctx.locale)),
            [
                ui.Chip(_("flow.continue"), postback.encode(c="resume")),
                ui.Chip(_("flow.restart"), postback.encode(c="restart")),
                ui.Chip(_("common.cancel"), postback.encode(c="cancel"), display=_("common.cancel")),
            ],
        )]


def _offered_location(flow: Flow) -> Step | None:
    """The flow's location step that is offered on the summary card rather than asked."""
    return next((s for s in flow.steps if s.expects == "location" and not s.ask), None)


def _global_command(inp: Input) -> str | None:
    """cancel / back / resume / restart, whether typed or tapped."""
    if inp.kind == "postback":
        command = inp.data.get("c")
        return command if command in ("cancel", "back", "resume", "restart") else None
    if inp.is_text:
        if thai.is_cancel(inp.text):
            return "cancel"
        if thai.is_back(inp.text):
            return "back"
    return None
