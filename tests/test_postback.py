"""The postback schema: strict parsing, builders that agree with it, and tampered taps answered kindly."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import postback
from bot.handlers import build_router
from bot.i18n import _, use_locale
from bot.models import Role
from bot.models.assembly import MAX_OPTIONS
from bot.roles import grant

from .helpers import group_postback, person

GID = "C" + "a" * 32

BOSS = "U" + "9" * 32
STALE = "ปุ่มนี้ใช้ไม่ได้แล้วค่ะ"
with use_locale("th"):
    ERROR_RETRY = _("common.error_retry")

TAMPERED_NUMBERS = ["", "0", "-1", "²", "๑", "١", "12345678901234567890", "2147483648", str(2**31 - 1),
                    " 1", "1 ", "1.0", "+1", "0x1", "1e3", "１"]


# ---- the parser ---------------------------------------------------------------------------------


def test_ids_are_plain_ascii_digits_in_db_range():
    assert postback.parse("a=org.approve&id=42") == {"a": "org.approve", "id": 42}
    assert postback.parse(f"a=org.approve&id={2**31 - 1}")["id"] == 2**31 - 1
    for raw in TAMPERED_NUMBERS:
        if raw == str(2**31 - 1):
            continue
        assert postback.parse(urlencode({"a": "org.approve", "id": raw})) is None, raw


def test_every_shape_parses_typed_and_strays_are_refused():
    assert postback.parse("cmd=register&sw=1") == {"cmd": "register", "sw": "1"}
    assert postback.parse("c=back") == {"c": "back"}
    assert postback.parse("f=register_org&s=province&p=2") == {"f": "register_org", "s": "province", "p": 2}
    assert postback.parse("f=register_org&s=province&g=") == {"f": "register_org", "s": "province", "g": ""}
    assert postback.parse("a=vote&b=abc-_9&o=9") == {"a": "vote", "b": "abc-_9", "o": 9}
    assert postback.parse("a=vote&b=abc&o=1&x=1") == {"a": "vote", "b": "abc", "o": 1, "x": "1"}  # confirmed
    assert postback.parse("a=rsvp&id=3&v=maybe") == {"a": "rsvp", "id": 3, "v": "maybe"}
    refused = [
        "", "no-equals-sign", "a=nope", "a=org.approve", "a=org.approve&id=1&zz=1",  # unknown, missing, extra
        "a=org.approve&id=1&id=2",  # a key twice
        "a=erase.do&cmd=menu", "c=back&f=register&s=x",  # two kinds at once
        "c=jump", "c=back&sw=1", "cmd=" , "cmd=ลงทะเบียน", "a=consent&v=maybe", "a=lang&v=fr",
        f"a=vote&b=tok&o={MAX_OPTIONS}", "a=vote&b=&o=0", "a=vote&b=" + "x" * 33 + "&o=0",
        "a=rsvp&id=1&v=GOING", "a=gset&k=weekly2", "a=gbind&s=planet:1", "a=vote.close&id=1&x=2",
        "a=vote&b=tok&o=0&x=2", "a=vote&b=tok&o=0&x=", "a=vote&b=tok&o=0&x=yes", "a=vote&b=tok&x=1",
        "f=register&s=x&v=1&x=done", "f=register&s=x&p=1000", "f=register&s=x&x=jump", "f=register",
        "f=register&s=x&v=" + "ก" * 201, "x" * 301,
    ]
    for data in refused:
        assert postback.parse(data) is None, data


def test_encode_refuses_what_parse_refuses():
    assert postback.encode(a="report.edit", id=7) == "a=report.edit&id=7"
    assert postback.encode(f="register", s="province", g=None) == "f=register&s=province"  # None = absent
    for fields in [{"a": "report.edit", "id": 0}, {"a": "nope"}, {"cmd": "menu", "zz": 1},
                   {"f": "x", "s": "y", "v": "x" * 400}, {"a": "lang", "v": "fr"}]:
        with pytest.raises(ValueError):
            postback.encode(**fields)


def test_schema_matches_the_router_and_the_models():
    router = build_router()
    routed = {name.removeprefix("group.") for name in router.actions}
    assert routed == set(postback.ACTIONS)
    assert {n.removeprefix("group.") for n in router.actions if n.startswith("group.")} == postback.GROUP_ACTIONS
    assert postback.MAX_OPTIONS == MAX_OPTIONS
    for name in postback.ACTIONS:  # every action has its row in the documented table
        assert f"``a={name}``" in postback.__doc__, name


# ---- tampered taps through the webhook ------------------------------------------------------------

plausible = st.sampled_from(["1", "2", "3", "yes", "no", "th", "en", "going", "not_going", "maybe", "national",
                             "province:50", "region:north", "daily", "lang", "AbC_-9", "0", "9"])
field_value = st.one_of(plausible, st.sampled_from(TAMPERED_NUMBERS), st.text(max_size=40),
                        st.integers(min_value=-2**70, max_value=2**70).map(str))


@st.composite
def tampered_data(draw, action: str) -> str:
    """Data for this action: its own fields with any values, some dropped, strays added, or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=60))
    keys = list(postback.ACTIONS[action])
    fields = {"a": action}
    for key in keys:
        if draw(st.integers(0, 5)):  # mostly present
            fields[key] = draw(field_value)
    for key in draw(st.lists(st.sampled_from(["id", "v", "x", "sw", "zz", "cmd", "f", "o"]), max_size=2)):
        fields.setdefault(key, draw(field_value))
    return urlencode(fields)


def _people(chat, db):
    boss = person(db, BOSS)
    for role, scope in [(Role.COORDINATOR, "province:50"), (Role.SECRETARIAT, "national"),
                        (Role.DELEGATE, "province:50")]:
        grant(db, boss, role, scope)
    db.commit()
    return chat.user(BOSS)


@pytest.mark.parametrize("action", sorted(postback.ACTIONS))
def test_tampered_taps_get_the_answer_or_the_stale_answer(chat, db, emulator, caplog, action):
    user = _people(chat, db)
    group = chat.group(GID, "เลขา")
    group.join()
    in_group = action in postback.GROUP_ACTIONS

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
              database=None)
    @given(data=tampered_data(action))
    def tap(data):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            if in_group:
                group_postback(group, BOSS, data)  # asserts HTTP 200
                said = group.last_text()
            else:
                user.postback(data)  # asserts HTTP 200
                said = user.last_text()
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, (data, errors[0].getMessage())
        assert ERROR_RETRY not in said, data
        assert said, f"silence after {data!r}"
        if postback.parse(data) is None:
            assert STALE in said, (data, said)
            if not in_group:  # and the menu, to carry on
                chips = user.replies()[-1].get("quickReply", {}).get("items", [])
                assert any(c["action"]["label"] == "ช่วยเหลือ" for c in chips), data
        assert not emulator.violations, emulator.violations[-1].errors

    tap()


def test_ids_of_rows_that_are_missing_or_not_yours_get_the_stale_answer(chat, db):
    user = _people(chat, db)
    db.commit()
    for data in ["a=org.approve&id=99999", "a=org.reject&id=99999", "a=report.edit&id=99999",
                 "a=report.withdraw_do&id=99999", "a=vote.open&id=99999", "a=mtg.send&id=99999",
                 "a=org.approve&id=abc", "a=vote.result&id=²"]:
        user.postback(data)
        assert STALE in user.last_text(), data
