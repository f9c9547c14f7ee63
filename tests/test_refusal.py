"""One way to refuse: guards declared with a route, Refusal raised by handlers and flows' saves."""
from __future__ import annotations

from typing import Any

import pytest
from linebot.v3.webhooks import Event
from sqlalchemy import select

from bot import ui
from bot.context import Context, Input
from bot.dispatch import Dispatcher
from bot.emulator import events as ev
from bot.flows.engine import CONFIRM, Flow, FlowEngine
from bot.flows.steps import Text
from bot.handlers.menu import menu_chips
from bot.i18n import N_, _, use_locale
from bot.lineport import Prefetched
from bot.models import ConversationState, Role, utcnow
from bot.refusal import Refusal, registered, role
from bot.roles import grant
from bot.router import Router

from .helpers import person, register

USER = "U" + "7" * 32
GROUP = "C" + "7" * 32


def th(key: str, **params: Any) -> str:
    with use_locale("th"):
        return _(key, **params)


def chip_labels(message: dict[str, Any]) -> list[str]:
    return [item["action"]["label"] for item in (message.get("quickReply") or {}).get("items", [])]


class Demo:
    """A router with guarded routes whose handlers record that they ran."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.router = Router()
        self.router.menu_chips = menu_chips
        self.router.command("demo", self.handler("demo"), ["สาธิต"], requires=registered)
        # (a real action's name: a postback outside bot.postback's schema never reaches a route)
        self.router.action("report.withdraw_keep", self.handler("report.withdraw_keep"),
                           requires=role(Role.SECRETARIAT, refusal=N_("vote.secretariat_only")))
        self.router.command("group_demo", self.refuse_in_group, ["สาธิต"], group=True)
        self.dispatcher = Dispatcher(self.router)

    def handler(self, name: str):
        def run(ctx, inp):
            self.ran.append(name)
            return [ui.text("ok")]
        return run

    def refuse_in_group(self, ctx, inp):
        # Written for a 1:1 chat: a second line and chips, which a group never gets.
        raise Refusal(_("meeting.not_allowed") + "\n" + _("help.footer"), chips=[ui.Chip("x", "cmd=menu")])

    def send(self, services, raw: dict[str, Any], *, chat_id: str = USER, source_type: str = "user") -> list[dict]:
        with services.session_factory() as session, session.begin(), use_locale("th"):
            ctx = Context(session=session, settings=services.settings, line=Prefetched(), now=utcnow(),
                          source_type=source_type, chat_id=chat_id, actor_id=USER)
            return [m.to_dict() for m in self.dispatcher.dispatch(ctx, Event.from_dict(raw))]


def test_a_registered_route_refuses_an_unregistered_member_before_its_handler(services, db):
    person(db, USER, registered=False)
    db.commit()
    demo = Demo()
    (reply,) = demo.send(services, ev.text_event(USER, "สาธิต", "r" * 32))
    assert demo.ran == []
    assert reply["text"] == th("org.need_registration")
    assert chip_labels(reply) == [th("menu.register")]  # only the way in, as before


def test_a_registered_route_runs_for_a_registered_member(services, db):
    person(db, USER)
    db.commit()
    demo = Demo()
    (reply,) = demo.send(services, ev.text_event(USER, "สาธิต", "r" * 32))
    assert demo.ran == ["demo"] and reply["text"] == "ok"


def test_a_role_guard_refuses_a_non_secretariat_member_with_the_menu(services, db):
    member = person(db, USER)
    db.commit()
    demo = Demo()
    (reply,) = demo.send(services, ev.postback_event(USER, "a=report.withdraw_keep", "r" * 32))
    assert demo.ran == []
    assert reply["text"] == th("vote.secretariat_only")
    assert th("menu.my_info") in chip_labels(reply)  # the menu: what they can do instead

    grant(db, member, Role.SECRETARIAT, "national")
    db.commit()
    (reply,) = demo.send(services, ev.postback_event(USER, "a=report.withdraw_keep", "r" * 32))
    assert demo.ran == ["report.withdraw_keep"] and reply["text"] == "ok"


def test_a_refusal_in_a_group_is_its_first_line_without_chips(services):
    demo = Demo()
    (reply,) = demo.send(services, ev.text_event(USER, "สาธิต", "r" * 32, group_id=GROUP),
                         chat_id=GROUP, source_type="group")
    assert reply["text"] == th("meeting.not_allowed")
    assert "quickReply" not in reply or not reply["quickReply"]


# ---- the real routes: the same replies as before they declared their guards -------------------------


def test_registered_features_refuse_an_unregistered_person_alike(chat):
    stranger = chat.user(USER)
    stranger.follow()
    for word in ("รายงานของฉัน", "ข้อมูลของฉัน", "รายงานกิจกรรม", "ลงทะเบียนองค์กร"):
        stranger.say(word)
        assert stranger.last_message()["text"] == th("org.need_registration"), word
        assert stranger.chips() == [th("menu.register")], word


def test_secretariat_actions_check_the_role_before_the_item(chat):
    leader = register(chat, USER)
    leader.postback("a=vote.open&id=999999")  # no such item: the role is what answers
    assert leader.last_message()["text"] == th("vote.secretariat_only")
    assert th("menu.my_info") in leader.chips()
    leader.say("สมัชชา")
    assert leader.last_message()["text"] == th("vote.secretariat_only")
    leader.say("รอรับรอง")
    assert leader.last_message()["text"] == th("cert.not_allowed")
    leader.say("นัดประชุม")
    assert leader.last_message()["text"] == th("meeting.not_allowed")


# ---- flows' saves ----------------------------------------------------------------------------------------


def _refusing_flow(end_flow: bool) -> Flow:
    def save(ctx, answers):
        raise Refusal(_("report.need_budget_source"), end_flow=end_flow)
    return Flow("refusing", title="org.title", steps=[Text("a", "register.ask_name", label="field.full_name")],
                on_complete=save, confirm_title="org.confirm_title")


@pytest.mark.parametrize("end_flow", [True, False])
def test_a_refusal_while_saving_ends_the_flow_or_keeps_its_card(services, db, end_flow):
    member = person(db, USER)
    engine = FlowEngine([_refusing_flow(end_flow)])
    with use_locale("th"):
        ctx = Context(session=db, settings=services.settings, line=Prefetched(), now=utcnow(),
                      source_type="user", chat_id=USER, member=member)
        engine.start(ctx, "refusing", answers={"a": "สมศรี"}, at_confirm=True)
        state = engine.state_of(ctx)
        (reply,) = engine.handle(ctx, state, Input("postback", data={"f": "refusing", "s": CONFIRM, "x": "save"}))
    assert reply.text == th("report.need_budget_source") and reply.quick_reply is None
    db.flush()
    left = db.scalar(select(ConversationState).where(ConversationState.member_id == member.id))
    assert (left is None) if end_flow else (left.step == CONFIRM)
