"""Organization registration and certification by coordinators, end to end."""
from __future__ import annotations

from sqlalchemy import select

from bot import ui
from bot.models import Member, Organization, OrgStatus, OutboxMessage, OutboxStatus, Province, Role, StrategicIssue
from bot.roles import grant

from .helpers import COORD, make_coordinator, register, register_org, tap_edit

LEADER = "U" + "1" * 32
OTHER_COORD = "U" + "d" * 32
STRANGER = "U" + "e" * 32


def test_register_org_and_coordinator_certifies(chat, db, emulator):
    coordinator = make_coordinator(chat, db)
    leader = register(chat)
    register_org(leader)
    assert leader.sees("ตรวจข้อมูลองค์กร", "กลุ่มออมทรัพย์บ้านแม่แฝก", "2550", "081-234-5678")
    leader.tap("บันทึก")
    assert "ส่งให้ผู้ประสานงาน" in leader.last_text()

    org = db.scalar(select(Organization))
    assert org.status is OrgStatus.PENDING
    assert org.member_count == 120 and org.founded_year == 2007 and org.locality == "ต.แม่แฝก อ.สันทราย"
    assert sorted(i.code for i in org.issues) == ["housing", "welfare"]

    # The coordinator of Chiang Mai got a push (through the outbox) with the decision buttons.
    request = coordinator.all_messages()[-1]
    assert request["_via"] == "push" and "กลุ่มออมทรัพย์บ้านแม่แฝก" in request["altText"]
    coordinator.seen = len(coordinator.all_messages()) - 1
    coordinator.tap("รับรอง")
    assert "รับรอง" in coordinator.last_text()
    db.rollback()  # end the read snapshot; see what the bot committed since
    org = db.scalar(select(Organization))
    assert org.status is OrgStatus.CERTIFIED and org.decided_by.line_user_id == COORD
    outcome = leader.all_messages()[-1]
    assert outcome["_via"] == "push" and "ได้รับการรับรอง" in outcome["text"]
    assert db.scalar(select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)) is None


def test_reject_asks_a_reason_and_tells_the_leader(chat, db):
    coordinator = make_coordinator(chat, db)
    leader = register(chat)
    register_org(leader)
    leader.tap("บันทึก")
    coordinator.seen = len(coordinator.all_messages()) - 1
    coordinator.tap("ไม่รับรอง")
    assert "เหตุผล" in coordinator.last_text()
    coordinator.say("ข้อมูลสมาชิกไม่ครบ กรุณาส่งรายชื่อ")
    db.rollback()  # end the read snapshot; see what the bot committed since
    org = db.scalar(select(Organization))
    assert org.status is OrgStatus.REJECTED and org.decision_reason == "ข้อมูลสมาชิกไม่ครบ กรุณาส่งรายชื่อ"
    assert "ข้อมูลสมาชิกไม่ครบ" in leader.all_messages()[-1]["text"]


def test_only_coordinators_of_the_area_may_certify(chat, db):
    make_coordinator(chat, db)
    other = make_coordinator(chat, db, user_id=OTHER_COORD, scope="province:10", name="ผู้ประสานกรุงเทพ")
    leader = register(chat)
    register_org(leader)
    leader.tap("บันทึก")
    org = db.scalar(select(Organization))
    # Postback data is forged by hand: the server checks the role and scope, not the button.
    other.postback(f"a=org.approve&id={org.id}")
    assert "ผู้ประสานงานหรือกองเลขาของพื้นที่" in other.last_text()
    leader.postback(f"a=org.approve&id={org.id}")
    assert "ผู้ประสานงานหรือกองเลขาของพื้นที่" in leader.last_text()
    db.rollback()  # end the read snapshot; see what the bot committed since
    assert db.scalar(select(Organization)).status is OrgStatus.PENDING


def test_region_scoped_secretariat_can_certify_and_double_decision_is_refused(chat, db):
    secretariat = make_coordinator(chat, db, scope="region:north")
    member = db.scalar(select(Member).where(Member.line_user_id == COORD))
    grant(db, member, Role.SECRETARIAT, "region:north")
    db.commit()
    leader = register(chat)
    register_org(leader)
    leader.tap("บันทึก")
    org = db.scalar(select(Organization))
    secretariat.postback(f"a=org.approve&id={org.id}")
    secretariat.postback(f"a=org.approve&id={org.id}")
    assert "ได้รับการรับรองไปแล้ว" in secretariat.last_text()
    # Forged ids, of no organization or not an id at all: the stale-button answer (bot.postback).
    secretariat.postback("a=org.approve&id=99999")
    assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in secretariat.last_text()
    secretariat.postback("a=org.approve&id=abc")
    assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in secretariat.last_text()


def test_pending_list_for_coordinators(chat, db):
    coordinator = make_coordinator(chat, db)
    leader = register(chat)
    register_org(leader, "องค์กรหนึ่ง")
    leader.tap("บันทึก")
    register_org(leader, "องค์กรสอง")
    leader.tap("บันทึก")
    coordinator.say("รอรับรอง")
    assert coordinator.sees("องค์กรหนึ่ง", "องค์กรสอง", "รอรับรอง 2")
    leader.say("รอรับรอง")
    assert "ผู้ประสานงานหรือกองเลขา" in leader.last_text()


def test_a_long_pending_list_still_fits_one_carousel(chat, db, emulator):
    """Fifteen pending organizations with the longest names and every issue: the carousel keeps the
    oldest that fit LINE's 12 bubbles and 50 KB, and says how many it shows."""
    coordinator = make_coordinator(chat, db)
    leader = db.scalar(select(Member).where(Member.line_user_id == COORD))
    leader.full_name = ("นางสาวสมศรี " + "ใจดีมีสุขทุกวัน" * 8)[:120]  # the longest name a member may have
    chiang_mai = db.scalar(select(Province).where(Province.code == "50"))
    issues = list(db.scalars(select(StrategicIssue)))
    for i in range(15):
        db.add(Organization(name=(f"{i:02d} " + "กลุ่มออมทรัพย์เพื่อการผลิตและสวัสดิการชุมชนบ้านแม่แฝก" * 4)[:200],
                            org_type="savings_group", province=chiang_mai, locality="ตำบลแม่แฝกใหม่ " * 13,
                            member_count=1200, founded_year=2007, contact_phone="0812345678",
                            registered_by=leader, issues=issues))
    db.commit()
    coordinator.say("รอรับรอง")
    intro, card = coordinator.replies()[-2:]
    shown = len(card["contents"]["contents"])
    assert 1 <= shown <= 12
    assert f"มีองค์กรรอรับรอง 15 แห่งค่ะ แสดง {shown} แห่ง" in intro["text"]
    assert card["contents"]["contents"][0]["body"]["contents"][0]["text"].startswith("คำขอรับรองสถานภาพ: 00")
    assert ui.json_size(card["contents"]) <= ui.CAROUSEL_BYTES and emulator.violations == []


def test_org_registration_requires_a_registered_leader(chat):
    stranger = chat.user(STRANGER)
    stranger.follow()
    stranger.say("ลงทะเบียนองค์กร")
    assert "ลงทะเบียนแกนนำก่อน" in stranger.last_text()


def test_no_coordinator_yet_still_saves(chat, db):
    leader = register(chat)
    register_org(leader)
    leader.tap("บันทึก")
    assert "ยังไม่มีผู้ประสานงาน" in leader.last_text()
    assert db.scalar(select(Organization)).status is OrgStatus.PENDING


def test_switching_task_mid_flow_asks_first(chat, db):
    leader = register(chat)
    leader.tap("ลงทะเบียนองค์กร")
    leader.say("กลุ่มทดลอง")
    leader.postback("cmd=register_org")
    assert "ไม่เสร็จ" in leader.last_text()
    leader.tap("ทำต่อ")
    assert "ประเภท" in leader.last_text()


def test_a_typed_button_name_mid_flow_offers_to_switch(chat, db):
    """Typing "รายงานกิจกรรม" in the middle of registering an organization is a wish to switch,
    asked first as a rich-menu tap is; an answer the question offers as a chip is an answer."""
    leader = register(chat)
    leader.tap("ลงทะเบียนองค์กร")
    leader.say("กลุ่มทดลอง")
    leader.say("รายงานกิจกรรม")
    assert "ไม่เสร็จ" in leader.last_text()
    assert {"ทำต่อ", "ทิ้ง ไปเรื่องใหม่"} <= set(leader.chips())
    leader.tap("ทำต่อ")
    assert "ประเภท" in leader.last_text()
    leader.say("ข้อมูลของฉัน")  # a button that starts nothing: shown, the registration kept
    leader.tap("ข้อมูลของฉัน")
    assert "ไม่เสร็จ" not in leader.last_text()
    leader.say("รายงานกิจกรรม")
    leader.tap("ทิ้ง ไปเรื่องใหม่")
    assert "ไม่เสร็จ" not in leader.last_text()
    db.rollback()
    assert db.scalar(select(Organization)) is None


def test_restarting_an_expired_rejection_keeps_the_organization(chat, db):
    import time_machine
    from datetime import timedelta

    with time_machine.travel("2026-11-20 10:00 +0700", tick=False) as clock:
        coordinator = make_coordinator(chat, db)
        leader = register(chat)
        register_org(leader)
        leader.tap("บันทึก")
        coordinator.seen = len(coordinator.all_messages()) - 1
        coordinator.tap("ไม่รับรอง")
        clock.shift(timedelta(hours=30))
        coordinator.say("ข้อมูลไม่ครบ")
        coordinator.tap("เริ่มใหม่")
        assert "เหตุผล" in coordinator.last_text()
        coordinator.say("ข้อมูลสมาชิกไม่ครบ")
        db.rollback()
        org = db.scalar(select(Organization))
        assert org.status is OrgStatus.REJECTED and org.decision_reason == "ข้อมูลสมาชิกไม่ครบ"


def test_free_text_is_kept_as_written(chat, db):
    coordinator = make_coordinator(chat, db)
    leader = register(chat)
    register_org(leader, name="กลุ่มออมทรัพย์หมู่ ๕")
    leader.tap("บันทึก")
    coordinator.seen = len(coordinator.all_messages()) - 1
    coordinator.tap("ไม่รับรอง")
    coordinator.say("ข้อ ๑ รายชื่อไม่ครบ\nข้อ ๒ ไม่มีเบอร์ติดต่อ")
    db.rollback()
    org = db.scalar(select(Organization))
    assert org.name == "กลุ่มออมทรัพย์หมู่ ๕"
    assert org.decision_reason == "ข้อ ๑ รายชื่อไม่ครบ\nข้อ ๒ ไม่มีเบอร์ติดต่อ"


def test_organization_name_without_letters_is_refused(chat, db):
    leader = register(chat)
    leader.tap("ลงทะเบียนองค์กร")
    for nothing in ["!!!", "🌾🌾", "12345", "ๆๆ"]:
        leader.say(nothing)
        assert "ขอชื่อองค์กรเป็นตัวหนังสือนะคะ" in leader.last_text(), nothing
    leader.say("กลุ่มออมทรัพย์บ้านแม่แฝก")
    assert "เป็นตัวหนังสือ" not in leader.last_text()
    assert "กลุ่มออมทรัพย์" in leader.chips()  # on to the kind of organization


def test_optional_founding_year_skips_by_typed_words_and_says_how_on_errors(chat, db):
    leader = register(chat)
    leader.tap("ลงทะเบียนองค์กร")
    leader.say("กลุ่มแม่บ้านดอนแก้ว")
    assert "อื่น ๆ" in leader.chips()  # all ten types on the first page, "other" included
    leader.tap("กลุ่มอาชีพ")
    leader.say("ต.ดอนแก้ว อ.แม่ริม")
    leader.tap("บ้านมั่นคง")
    leader.tap("เสร็จแล้ว")
    leader.say("25")
    leader.say("นานมาแล้ว")
    assert "ขอเป็นปี พ.ศ." in leader.last_text()
    assert 'กด "ข้าม" หรือพิมพ์ว่า "ข้าม"' in leader.last_text()  # the refusal says how to skip
    leader.say("ไม่ทราบค่ะ")
    # The province and the contact phone are the leader's own: on the card, changeable there.
    assert leader.sees("ตรวจข้อมูลองค์กร", "เชียงใหม่", "081-234-5678", "กลุ่มอาชีพ")
    leader.tap("บันทึก")
    org = db.scalar(select(Organization))
    assert org.founded_year is None and org.province.name_th == "เชียงใหม่" and org.contact_phone == "0812345678"


def test_province_and_phone_change_on_the_card(chat, db):
    leader = register(chat)
    register_org(leader, "กลุ่มออมทรัพย์ลำปาง", phone="089-999-0000")
    assert leader.sees("ตรวจข้อมูลองค์กร", "089-999-0000")
    tap_edit(leader, "province")
    assert "ใช้คำตอบเดิม" in leader.chips()
    leader.say("ลำปาง")
    assert leader.sees("ตรวจข้อมูลองค์กร", "ลำปาง")
    leader.tap("บันทึก")
    org = db.scalar(select(Organization))
    assert org.province.name_th == "ลำปาง" and org.contact_phone == "0899990000"
