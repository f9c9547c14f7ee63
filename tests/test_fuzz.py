"""Whatever a person sends at whatever step, the bot answers 200 and a reply LINE accepts."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .chat import actions_in as _actions
from .helpers import make_coordinator

FUZZER = "U" + "f" * 32

texts = st.text(min_size=1, max_size=300).filter(lambda t: t.strip())
commands = st.sampled_from(["ยกเลิก", "ย้อนกลับ", "เมนู", "ลงทะเบียน", "ลงทะเบียนองค์กร", "ข้อมูลของฉัน", "รอรับรอง",
                            "ลบข้อมูลของฉัน", "ภาษา", "๑๒๐", "เสร็จแล้ว", "ตกลง", "25/11/2569"])
postbacks = st.one_of(
    st.text(max_size=300),
    st.builds(lambda f, s, v: f"f={f}&s={s}&v={v}", st.sampled_from(["register", "register_org", "reject_org", "x"]),
              st.sampled_from(["full_name", "phone", "province", "issues", "__confirm", "zzz"]), st.text(max_size=40)),
    st.sampled_from(["c=back", "c=cancel", "c=resume", "c=restart", "a=consent&v=yes", "a=org.approve&id=1",
                     "a=org.reject&id=1", "a=erase.keep", "cmd=register_org", "cmd=menu", "a=lang&v=en",
                     "f=register_org&s=issues&x=done", "f=register_org&s=province&g=north", "f=register&s=x&p=99"]),
)
actions = st.lists(st.one_of(
    st.tuples(st.just("say"), texts),
    st.tuples(st.just("say"), commands),
    st.tuples(st.just("postback"), postbacks),
    st.tuples(st.just("tap_any"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("sticker"), st.none()),
    st.tuples(st.just("location"), st.none()),
), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=actions)
def test_any_input_at_any_step_gets_a_valid_reply(chat, db, emulator, script):
    person = chat.user(FUZZER)
    if not emulator.messages_for(FUZZER):
        make_coordinator(chat, db, user_id=FUZZER)
    for kind, arg in script:
        if kind == "tap_any":
            buttons = [a for m in person.replies() for a in _actions(m) if a.get("type") == "postback"]
            if not buttons:
                continue
            person.postback(buttons[arg % len(buttons)]["data"])
        elif kind in ("sticker", "location"):
            getattr(person, kind)()
        else:
            getattr(person, kind)(arg)
        assert person.replies(), f"silence after {kind} {arg!r}"
        assert not emulator.violations, emulator.violations[-1].errors
