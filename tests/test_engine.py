"""The conversation engine and message builders, tested directly (no webhook)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import postback, ui
from bot.context import Context, Input
from bot.flows.engine import CONFIRM, Flow, FlowEngine
from bot.flows.steps import Number, Text
from bot.i18n import use_locale
from bot.lineport import Prefetched
from bot.models import ConversationState, Member, utcnow

saved: list[dict] = []


def _save(ctx, answers):
    saved.append(answers)
    return [ui.text("saved")]


def make_flow(order=("a", "b", "c"), skip_b=False):
    steps = {
        "a": Text("a", "register.ask_name", label="field.full_name"),
        "b": Number("b", "org.ask_members", label="field.member_count",
                    skip_if=(lambda ctx, ans: ans.get("a") == "skip") if skip_b else None),
        "c": Text("c", "org.ask_locality", label="field.locality"),
    }
    return Flow("demo", title="org.title", steps=[steps[n] for n in order if n in steps], on_complete=_save,
                confirm_title="org.confirm_title")


@pytest.fixture
def ctx(services):
    with services.session_factory() as session, session.begin():
        member = Member(line_user_id="U" + "5" * 32)
        session.add(member)
        session.flush()
        context = Context(session=session, settings=services.settings, line=Prefetched(), now=utcnow(),
                          source_type="user", chat_id=member.line_user_id, member=member)
        with use_locale("th"):
            yield context


def say(engine, ctx, text):
    state = engine.state_of(ctx)
    return engine.handle(ctx, state, Input("text", text=text))


def test_state_stores_step_names_so_reordering_keeps_conversations(ctx):
    FlowEngine([make_flow()]).start(ctx, "demo")
    say(FlowEngine([make_flow()]), ctx, "สมศรี")
    assert ctx.session.scalar(select(ConversationState.step)) == "b"
    # A deploy reorders the steps: the saved conversation is still at "b", with "a" answered,
    # and the step that moved before it is asked next, not lost.
    reordered = FlowEngine([make_flow(order=("c", "a", "b"))])
    say(reordered, ctx, "12")
    state = ctx.session.scalar(select(ConversationState))
    assert {k: v for k, v in state.answers.items() if not k.startswith("_")} == {"a": "สมศรี", "b": 12}
    assert state.step == "c"
    say(reordered, ctx, "ต.แม่แฝก")
    assert ctx.session.scalar(select(ConversationState.step)) == CONFIRM


def test_removed_step_resumes_at_first_unanswered(ctx):
    FlowEngine([make_flow()]).start(ctx, "demo")
    say(FlowEngine([make_flow()]), ctx, "สมศรี")
    shrunk = FlowEngine([make_flow(order=("a", "c"))])
    messages = say(shrunk, ctx, "anything")  # step "b" is gone: re-asked from the first unanswered
    assert ctx.session.scalar(select(ConversationState.step)) == "c"
    assert "ตำบล" in messages[-1].text


def test_skip_if_and_confirm_then_save(ctx):
    engine = FlowEngine([make_flow(skip_b=True)])
    engine.start(ctx, "demo")
    say(engine, ctx, "skip")
    say(engine, ctx, "ต.แม่แฝก")
    assert engine.state_of(ctx).step == CONFIRM
    engine.handle(ctx, engine.state_of(ctx), Input("postback", data={"f": "demo", "s": CONFIRM, "x": "save"}))
    assert saved[-1] == {"a": "skip", "c": "ต.แม่แฝก"}
    assert engine.state_of(ctx) is None


def test_expiry_is_a_column_not_a_timer(ctx):
    engine = FlowEngine([make_flow()])
    engine.start(ctx, "demo")
    state = engine.state_of(ctx)
    assert state.expires_at - ctx.now == timedelta(hours=24)
    ctx.now += timedelta(hours=25)
    messages = say(engine, ctx, "สมศรี")
    assert "ทำต่อ" in str(messages[-1].to_dict())
    assert "a" not in engine.state_of(ctx).answers  # the late answer was not taken blindly


def test_quick_replies_are_clipped_and_capped():
    chip = ui.Chip("ก" * 40, postback.encode(cmd="menu"))
    assert len(chip.item().action.label) <= 20
    with pytest.raises(ValueError):
        ui.quick_reply([chip] * 14)
    with pytest.raises(ValueError):
        postback.encode(f="x", s="y", v="x" * 400)
    assert postback.parse("cmd=menu&sw=1") == {"cmd": "menu", "sw": "1"}
    assert postback.parse("no-equals-sign") is None


def test_card_alt_text_within_limit():
    rows = [ui.Row(f"แถว {i}", "ข้อความยาว " * 30) for i in range(40)]
    message = ui.card("หัวข้อ", rows)
    assert len(message.alt_text) <= 1500
