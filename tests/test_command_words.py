"""Typed commands are recognised the same way in and out of a flow: polite particles, case,
spaces and punctuation do not matter (one normalizer, thai.command_key)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import thai
from bot.models import ConversationState, Member
from bot.router import Router

from .helpers import U1, answer_until_photos, make_org, person, register

GID = "C" + "a" * 32

MENU_PROMPT = "ต้องการทำอะไรคะ"
NOT_UNDERSTOOD = "ขบวนยังไม่เข้าใจ"


@pytest.mark.parametrize("said", ["เมนูค่ะ", "เมนู ครับ", "เมนูนะคะ", "Menu please", "เมนู!", "MAIN MENU"])
def test_menu_with_a_particle_outside_a_flow_shows_the_menu(chat, said):
    leader = register(chat)
    leader.say(said)
    assert MENU_PROMPT in leader.last_text() and NOT_UNDERSTOOD not in leader.last_text()


def test_other_commands_with_particles_outside_a_flow(chat):
    leader = register(chat)
    leader.say("ข้อมูลของฉันค่ะ")
    assert leader.sees("สมศรี ใจดี", "081-234-5678")
    leader.say("ช่วยเหลือครับ")
    assert NOT_UNDERSTOOD not in leader.last_text()


def test_menu_back_and_cancel_with_particles_inside_a_flow(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมศรี ใจดี")
    leader.say("ย้อนกลับค่ะ")
    assert "คำตอบเดิม: สมศรี ใจดี" in leader.last_text()
    leader.say("เมนูค่ะ")
    assert MENU_PROMPT in leader.last_text()
    leader.say("หน้าหลัก")  # a menu word the router knew and the flows did not
    assert MENU_PROMPT in leader.last_text()
    leader.say("ยกเลิก นะคะ")
    assert "ยกเลิก" in leader.last_text()
    assert db.scalar(select(ConversationState)) is None
    assert db.scalar(select(Member.full_name)) is None


def test_group_commands_take_particles_but_the_mention_mark_still_counts(chat, db):
    person(db, "U" + "b" * 32)
    db.commit()
    group = chat.group(GID)
    group.join()
    group.say("U" + "b" * 32, "ช่วยเหลือค่ะ")
    assert group.replies()
    group.say("U" + "b" * 32, "@ขบวน")
    assert group.replies()
    group.say("U" + "b" * 32, "ขบวน")  # the movement's name said in passing is not a command
    assert not group.replies()


def test_typed_no_photo_with_a_particle_moves_on(chat, db, frozen_now):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    assert "ไม่มีรูป" in leader.chips()
    leader.say("ไม่มีรูปค่ะ")
    assert "ไม่มีรูป" not in leader.chips()  # the photo step is answered: on to the budget
    assert "ไม่ได้ใช้งบ" in leader.chips()


# ---- the normalizer itself ----------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "key"), [
    ("เมนูค่ะ", "เมนู"), ("เมนู ค่ะ", "เมนู"), ("ยกเลิกนะคะ", "ยกเลิก"), ("ยกเลิกครับผม", "ยกเลิก"),
    ("Main  Menu", "mainmenu"), ("MENU please", "menu"), ("ＣＡＮＣＥＬ.", "cancel"), ("ยกเลิก\u200b", "ยกเลิก"),
    ("ข้อมูลของฉัน จ้า", "ข้อมูลของฉัน"), ("my info!", "myinfo"), ("?", "?"), ("ช่วยเหลือ?", "ช่วยเหลือ"),
    ("@ขบวน", "@ขบวน"), ("ค่ะ", "ค่ะ"), ("", ""), ("๑๒", "12"),
])
def test_command_key(typed, key):
    assert thai.command_key(typed) == key


def test_word_sets_match_with_particles_and_spacing():
    assert thai.is_menu("main menu ครับ") and thai.is_menu("mainmenu")
    assert thai.is_cancel("Cancel ค่ะ") and thai.is_back("ย้อน กลับ นะ")
    assert thai.is_done("เสร็จแล้วจ้า") and thai.is_yes("ok ครับ")
    assert not thai.is_cancel("ยกเลิกการแจ้ง") and not thai.is_menu("ค่ะ")


def test_router_uses_the_same_normalizer():
    router = Router()
    router.command("menu", lambda ctx, inp: [], ["เมนู", "main menu"])
    for typed in ("เมนูค่ะ", "Main Menu นะคะ", "เมนู!"):
        found = router.find_command(typed)
        assert found is not None and found.key == "menu"
    assert router.find_command("เมนูอาหาร") is None
    with pytest.raises(ValueError, match="used by"):
        router.command("other", lambda ctx, inp: [], ["เมนูครับ"])  # the same word once normalized
