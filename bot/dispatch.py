"""Event → handler: by source (1:1 or group), by active flow, by command or postback."""
from __future__ import annotations

import logging
from collections.abc import Callable

from linebot.v3.messaging import Message
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    ImageMessageContent,
    JoinEvent,
    LeaveEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
)
from sqlalchemy import select

from . import menus, postback, thai, ui
from .context import Context, Input
from .db import insert_or_skip
from .flows.engine import FlowEngine
from .i18n import _, set_locale
from .lineport import CONTENT, GROUP_SUMMARY, PROFILE, QUOTA, Wants
from .models import ConversationState, Member
from .refusal import Refusal
from .router import Action, Command, Router

# state.view key: the button name typed mid-conversation that was met with a switch offer.
TYPED_BUTTON = "typed_button"

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, router: Router) -> None:
        self.router = router
        self.engine = FlowEngine(router.flows)

    # ---- building the input -------------------------------------------------------
    @staticmethod
    def input_of(event: Event) -> Input:
        if isinstance(event, PostbackEvent):
            params = dict(event.postback.params or {})
            data = postback.parse(event.postback.data)
            return Input("postback", data=data or {}, params=params, invalid=data is None)
        if isinstance(event, MessageEvent):
            msg = event.message
            if isinstance(msg, TextMessageContent):
                return Input("text", text=thai.normalize(msg.text or ""), raw=msg.text or "", message_id=msg.id)
            if isinstance(msg, ImageMessageContent):
                return Input("image", message_id=msg.id)
            if isinstance(msg, LocationMessageContent):
                return Input("location", message_id=msg.id, location={
                    "latitude": msg.latitude, "longitude": msg.longitude,
                    "address": (msg.address or "")[:200], "title": (msg.title or "")[:100]})
            if isinstance(msg, StickerMessageContent):
                return Input("sticker", message_id=msg.id)
            return Input("other", message_id=getattr(msg, "id", None))
        return Input("other")

    # ---- what LINE reads an event needs (fetched by the edge before the transaction) ----
    def wants(self, event: Event, *, source_type: str, chat_id: str, actor_id: str | None,
              flow_now: Callable[[], tuple[str, str] | None]) -> Wants:
        """The LINE reads this event's handler may use, so they can be made before the event's
        transaction takes the member's row lock. `flow_now` peeks (unlocked) at the (flow, step)
        the person is at; it is called only when some flow declares needs. A peek that is stale
        by the time the lock is held costs only an unneeded read, or a degraded answer."""
        needs: set[str] = set()
        message_id = None
        # Photos are taken in 1:1 flows only, never in groups.
        if (source_type == "user" and isinstance(event, MessageEvent)
                and isinstance(event.message, ImageMessageContent)):
            needs.add(CONTENT)
            message_id = event.message.id
        if isinstance(event, PostbackEvent):
            data = postback.parse(event.postback.data) or {}
            name = data.get("a")
            if name:
                key = name if source_type == "user" else f"group.{name}"
                needs |= self.router.action_needs.get(key, frozenset())
        if source_type == "user":
            needs |= self._flow_needs(event, flow_now)
        return Wants(
            profiles=(actor_id,) if PROFILE in needs and actor_id else (),
            groups=(chat_id,) if GROUP_SUMMARY in needs and source_type == "group" else (),
            quota=QUOTA in needs,
            contents=(message_id,) if CONTENT in needs and message_id else (),
        )

    def _flow_needs(self, event: Event, flow_now: Callable[[], tuple[str, str] | None]) -> frozenset[str]:
        """What a flow about to complete will read. A flow with a summary card completes only from
        it: a tap on its "save" names the flow and step in the data (no peek needed), a typed
        "yes" may too (peek). Only a flow without a card can complete from any answer (peek)."""
        with_needs = [flow for flow in self.engine.flows.values() if flow.needs]
        if not with_needs:
            return frozenset()
        if isinstance(event, PostbackEvent):
            data = postback.parse(event.postback.data) or {}
            flow = self.engine.flows.get(str(data.get("f") or ""))
            if flow is not None and flow.needs and flow.completes_from(str(data.get("s") or "")):
                return flow.needs
            return frozenset()
        if not isinstance(event, MessageEvent) or not isinstance(event.message, TextMessageContent):
            return frozenset()
        if all(flow.confirm_title is not None for flow in with_needs) \
                and not thai.is_yes(thai.normalize(event.message.text or "")):
            return frozenset()  # an answer to a question, never a completion: no peek
        at = flow_now()
        flow = self.engine.flows.get(at[0]) if at else None
        if flow is not None and at is not None and flow.completes_from(at[1]):
            return flow.needs
        return frozenset()

    # ---- entry ---------------------------------------------------------------------
    def dispatch(self, ctx: Context, event: Event) -> list[Message]:
        ctx.flows = self.engine
        if ctx.source_type == "user":
            return self._way_forward(ctx, self._one_to_one(ctx, event))
        return self._group(ctx, event)

    def _way_forward(self, ctx: Context, messages: list[Message]) -> list[Message]:
        """No dead ends in a 1:1 chat: a reply whose last message offers nothing to tap (a
        cancel, a refusal, a plain answer) gets the menu chips, so there is always a next step."""
        if messages and self.router.menu_chips and not ui.has_actions(messages[-1]):
            ui.with_chips(messages[-1], self.router.menu_chips(ctx))
        return messages

    def _one_to_one(self, ctx: Context, event: Event) -> list[Message]:
        member = self._member_for_update(ctx)
        ctx.member = member
        set_locale(member.locale)

        if isinstance(event, UnfollowEvent):
            return self._event("unfollow", ctx, Input("other"))
        if isinstance(event, FollowEvent):
            return self._event("follow", ctx, Input("other"))
        if not isinstance(event, (MessageEvent, PostbackEvent)):
            log.info("ignored %s event in 1:1 chat", event.type)
            return []
        if not member.active:  # messages imply they follow us again (e.g. unblocked)
            member.active = True
        inp = self.input_of(event)

        if inp.invalid or (inp.kind == "postback" and "cmd" in inp.data
                           and inp.data["cmd"] not in self.router.commands):
            return self._unusable_button(ctx)
        if inp.kind == "postback" and "a" in inp.data:
            return self._action(ctx, inp)
        state = self.engine.state_of(ctx)
        if state is not None and self.engine.drop_if_offer_ignored(ctx, state, inp):
            state = None  # the expired conversation was offered once and passed over
        if state is not None:
            typed = self._typed_button(ctx, state, inp)
            if typed is not None:
                return typed
            command = self._menu_command(ctx, inp, in_flow=True)
            if command is not None:
                if inp.data.get("sw") == "1" or not command.starts_flow:
                    if command.starts_flow:
                        self.engine.clear(ctx)
                        ctx.session.flush()
                    return self._run(ctx, command, inp)
                return [ui.text(
                    _("flow.switch_offer", task=self.engine.task(self.engine.flows[state.flow], state)),
                    [ui.Chip(_("flow.continue"), postback.encode(c="resume")),
                     ui.Chip(_("flow.switch"), postback.encode(cmd=command.key, sw=1))],
                )]
            return self.engine.handle(ctx, state, inp)
        if inp.kind == "postback" and inp.data.get("c") in ("cancel", "back", "resume", "restart"):
            return [ui.text(_("flow.nothing_active"))] + self._menu(ctx, inp)
        if inp.kind == "postback" and "f" in inp.data:
            return [ui.text(_("flow.ended_already"))] + self._menu(ctx, inp)
        command = self._menu_command(ctx, inp, in_flow=False)
        if command is not None:
            return self._run(ctx, command, inp)
        return self._fallback(ctx, inp)

    @staticmethod
    def _member_for_update(ctx: Context) -> Member:
        """Load (or create) the speaker, row-locked so their events are handled one at a time."""
        query = select(Member).where(Member.line_user_id == ctx.chat_id).with_for_update()
        member = ctx.session.scalar(query)
        if member is not None:
            return member
        # Two first events at once: one insert wins (its uncommitted row is as good as locked),
        # the other inserts nothing, waiting until the winner commits, and then locks its row.
        member = ctx.session.scalar(
            insert_or_skip(ctx.session, Member, "line_user_id")
            .values(line_user_id=ctx.chat_id, locale=ctx.settings.default_locale, active=True)
            .returning(Member))
        if member is None:
            member = ctx.session.scalar(query)
            assert member is not None
        return member

    def _menu_command(self, ctx: Context, inp: Input, *, in_flow: bool):
        if inp.kind == "postback" and "cmd" in inp.data:
            return self.router.commands.get(inp.data["cmd"])
        if inp.is_text and not in_flow:
            return self.router.find_command(inp.text)
        if inp.is_text and in_flow and thai.is_menu(inp.text):
            return self.router.commands.get("menu")
        return None

    def _typed_button(self, ctx: Context, state: ConversationState, inp: Input) -> list[Message] | None:
        """A button's name typed in the middle of a conversation ("รายงานกิจกรรม") is most likely a
        wish to do that instead: asked first, as a tap on the rich menu is. It may also be the
        answer ("ประชุม" as a meeting's title): the same words typed again are taken as the answer,
        and a question that offers the words as a chip takes them at once."""
        if not inp.is_text or inp.kind == "postback":
            return None
        command = self.router.find_command(inp.text)
        if command is None or command.key not in menus.ENTRIES or self.engine.offers_word(ctx, state, inp.text):
            return None
        key = thai.command_key(inp.text)
        view = dict(state.view or {})
        if view.pop(TYPED_BUTTON, None) == key:  # typed again: it is the answer
            state.view = view
            return None
        state.view = {**view, TYPED_BUTTON: key}
        task = self.engine.task(self.engine.flows[state.flow], state)
        go = (ui.Chip(_("flow.switch"), postback.encode(cmd=command.key, sw=1)) if command.starts_flow
              else ui.Chip(_(menus.ENTRIES[command.key].label_id), postback.encode(cmd=command.key, sw=1)))
        return [ui.text(_("flow.switch_offer_typed", task=task, words=inp.text.strip()),
                        [ui.Chip(_("flow.continue"), postback.encode(c="resume")), go])]

    def _action(self, ctx: Context, inp: Input) -> list[Message]:
        action = self.router.actions.get(inp.data["a"])
        if action is None:  # a group chat's button sent in a 1:1 chat
            return self._unusable_button(ctx)
        ctx.confirm_switch = inp if inp.data.get("sw") != "1" else None
        return self._run(ctx, action, inp)

    def _run(self, ctx: Context, route: Command | Action, inp: Input) -> list[Message]:
        """Check the route's guards, then run its handler; a Refusal from either is the reply."""
        try:
            for check in route.requires:
                check(ctx)
            return route.handler(ctx, inp)
        except Refusal as refusal:
            return [self._refusal_reply(ctx, refusal)]

    def _refusal_reply(self, ctx: Context, refusal: Refusal) -> Message:
        """In a 1:1 chat the refusal and what one can do instead (the menu unless it says); in a group
        one short line: its first, without chips (a group is read by everyone: no menu, no card)."""
        if ctx.source_type != "user":
            return ui.text(refusal.message.strip().split("\n", 1)[0])
        chips = refusal.chips
        if chips is None:
            chips = self.router.menu_chips(ctx) if self.router.menu_chips else []
        return ui.text(refusal.message, chips)

    def _unusable_button(self, ctx: Context) -> list[Message]:
        """A tap the bot could not have offered here (forged, or from an old version): say so,
        change nothing, and offer the menu. Not an error: nothing is logged above INFO."""
        log.info("unusable postback in a %s chat", ctx.source_type)
        chips = self.router.menu_chips(ctx) if self.router.menu_chips and ctx.source_type == "user" else []
        return [ui.text(_("common.unknown_button"), chips)]

    def _event(self, name: str, ctx: Context, inp: Input) -> list[Message]:
        handler = self.router.events.get(name)
        return handler(ctx, inp) if handler else []

    def _menu(self, ctx: Context, inp: Input) -> list[Message]:
        menu = self.router.commands.get("menu")
        return self._run(ctx, menu, inp) if menu else []

    def _fallback(self, ctx: Context, inp: Input) -> list[Message]:
        return self.router.fallback(ctx, inp) if self.router.fallback else []

    def _group(self, ctx: Context, event: Event) -> list[Message]:
        # In groups the bot speaks only when addressed by a command; no flows, no personal data.
        if isinstance(event, JoinEvent):
            return self._event("join", ctx, Input("other"))
        if isinstance(event, LeaveEvent):
            return self._event("leave", ctx, Input("other"))
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            inp = self.input_of(event)
            command = self.router.find_command(inp.text, group=True)
            return self._run(ctx, command, inp) if command else []
        if isinstance(event, PostbackEvent):
            inp = self.input_of(event)
            name = inp.data.get("a")
            action = self.router.actions.get(f"group.{name}") if name else None
            return self._run(ctx, action, inp) if action else self._unusable_button(ctx)
        return []
