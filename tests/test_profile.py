"""My info, language, erasure, menu and groups."""
from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from bot.models import ConversationState, Member, Organization, RoleGrant, utcnow

from .chat import actions_in as _actions
from .helpers import U1, make_coordinator, register, register_org

GROUP = "C" + "a" * 32


def test_my_info_shows_profile_and_organizations(chat):
    leader = register(chat)
    register_org(leader, "กลุ่มแม่บ้าน")
    leader.tap("บันทึก")
    leader.say("ข้อมูลของฉัน")
    assert leader.sees("สมศรี ใจดี", "081-234-5678", "เชียงใหม่", "กลุ่มแม่บ้าน", "รอรับรอง", "แกนนำ")


def test_change_language_to_english_and_back(chat, db):
    leader = register(chat)
    leader.say("ภาษา")
    leader.tap("English")
    assert "English" in leader.last_text()
    leader.say("menu")
    assert "My info" in leader.chips()
    leader.say("language")
    leader.tap("ภาษาไทย")
    assert "ภาษาไทย" in leader.last_text()
    assert db.scalar(select(Member.locale)) == "th"


def test_edit_profile_opens_the_summary(chat, db):
    leader = register(chat)
    leader.say("ข้อมูลของฉัน")
    leader.tap("แก้ไขข้อมูล")
    assert leader.sees("ตรวจข้อมูลของคุณ", "สมศรี ใจดี")
    leader.tap("แก้ไข")
    leader.say("สมศรี ใหม่")
    leader.tap("บันทึก")
    assert "บันทึกข้อมูลใหม่" in leader.last_text()
    db.rollback()  # end the read snapshot; see what the bot committed since
    assert db.scalar(select(Member.full_name)) == "สมศรี ใหม่"


def test_delete_my_data_keeps_anonymous_counts(chat, db):
    leader = register(chat)
    register_org(leader, "กลุ่มแม่บ้าน")
    leader.tap("บันทึก")
    leader.say("ลบข้อมูลของฉัน")
    leader.tap("ไม่ลบ")
    assert db.scalar(select(Member.full_name)) == "สมศรี ใจดี"
    leader.say("ลบข้อมูลของฉัน")
    leader.tap("ยืนยันลบ")
    assert "ลบข้อมูลส่วนตัว" in leader.last_text()
    db.rollback()  # end the read snapshot; see what the bot committed since
    member = db.scalar(select(Member))
    assert (member.full_name, member.phone, member.display_name, member.consent_at) == (None, None, None, None)
    assert member.erased_at is not None
    assert db.scalar(select(RoleGrant)) is None
    org = db.scalar(select(Organization))
    assert org.name == "กลุ่มแม่บ้าน" and org.contact_phone is None  # the count remains, the phone does not
    leader.say("ข้อมูลของฉัน")
    assert "ลงทะเบียน" in leader.last_text()


def test_unknown_text_gets_the_menu(chat):
    leader = register(chat)
    leader.say("สวัสดีจ้า อากาศดีนะวันนี้")
    assert "ยังไม่เข้าใจ" in leader.last_text()
    assert "ลงทะเบียนองค์กร" in leader.chips()
    leader.sticker()
    assert "ลงทะเบียนองค์กร" in leader.chips()


def test_stale_and_forged_postbacks_are_refused_politely(chat, db):
    leader = register(chat)
    leader.postback("f=register&s=phone&v=0812345678")
    assert "ยกเลิกไปแล้ว" in leader.last_text()
    leader.postback("a=no.such.action")
    assert "ใช้ไม่ได้" in leader.last_text()
    leader.postback("%%%garbage&&==")
    assert leader.replies()  # answered, not silent
    leader.postback("x" * 300)
    assert leader.replies()


def test_abandoned_flow_expires_and_offers_continue_or_restart(chat, db):
    leader = chat.user(U1)
    with time_machine.travel("2026-11-20 10:00 +0700", tick=False) as clock:
        leader.follow()
        leader.tap("ยินยอม")
        leader.say("สมศรี ใจดี")
        clock.shift(timedelta(hours=25))
        leader.say("0812345678")
        assert leader.sees("ค้างไว้ตั้งแต่", "20 พ.ย. 2569", "ทำต่อ", "เริ่มใหม่")
        assert db.scalar(select(ConversationState.step)) == "phone"  # nothing was lost
        leader.tap("ทำต่อ")
        assert "เบอร์โทร" in leader.last_text()
        leader.say("0812345678")
        assert "ภาค" in leader.last_text()
        clock.shift(timedelta(hours=30))
        leader.say("ลำปาง")
        leader.tap("เริ่มใหม่")
        assert "ชื่อ-นามสกุล" in leader.last_text()


def test_group_join_intro_and_silence(chat, db):
    group = chat.group(GROUP)
    group.join()
    assert "ขบวนเข้ากลุ่มแล้ว" in group.last_text()
    group.say(U1, "สวัสดีทุกคน")
    assert group.replies() == []
    group.say(U1, "ช่วยเหลือ")
    assert "คำสั่งในกลุ่ม" in group.last_text()
    # Nobody's flow started and no member record was made from group chatter.
    assert db.scalar(select(ConversationState)) is None
    assert db.scalar(select(Member)) is None
    group.leave()


def test_a_button_never_silently_drops_a_conversation(chat, db):
    coordinator = make_coordinator(chat, db, user_id="U" + "c" * 32)
    leader = register(chat)
    register_org(leader, "กลุ่มแม่บ้าน")
    leader.tap("บันทึก")
    request = coordinator.all_messages()[-1]
    coordinator.tap("ลงทะเบียนองค์กร")
    coordinator.say("กลุ่มของผู้ประสาน")
    coordinator.tap("ชุมชน")
    # The old certification card's "reject" would start another flow: it asks first.
    reject = [a for a in _actions(request) if a.get("label") == "ไม่รับรอง"][0]
    coordinator.postback(reject["data"])
    assert "ไม่เสร็จ" in coordinator.last_text()
    coordinator.tap("ทำต่อ")
    assert "ตำบล" in coordinator.last_text()  # still registering (the next question), answers kept
    coordinator.postback(reject["data"])
    coordinator.tap("ทิ้ง ไปเรื่องใหม่")
    assert "เหตุผล" in coordinator.last_text()


def test_second_tap_on_agree_keeps_the_registration(chat):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมศรี ใจดี")
    leader.postback("a=consent&v=yes")
    assert "เบอร์โทร" in leader.last_text()


def test_declining_after_registering_offers_erasure(chat, db):
    leader = register(chat)
    leader.postback("a=consent&v=no")
    assert leader.sees("ลบข้อมูลของคุณไหมคะ")
    assert db.scalar(select(Member.full_name)) == "สมศรี ใจดี"


def test_erasure_drops_pushes_still_waiting_for_the_person(chat, db, services):
    from bot.delivery import enqueue
    from bot.models import OutboxMessage, OutboxStatus
    from bot import ui

    leader = register(chat)
    with services.session_factory() as session, session.begin():
        enqueue(session, [U1], [ui.text("เตือนคุณสมศรี")], now=utcnow(), kind="reminder")
    leader.say("ลบข้อมูลของฉัน")
    leader.tap("ยืนยันลบ")
    db.rollback()
    assert db.scalar(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)) is None


def test_no_one_certifies_their_own_organization(chat, db):
    from bot.models import Organization, Role
    from bot.roles import grant

    leader = register(chat)
    member = db.scalar(select(Member))
    grant(db, member, Role.COORDINATOR, "province:50")
    db.commit()
    register_org(leader, "กลุ่มของฉันเอง")
    leader.tap("บันทึก")
    org = db.scalar(select(Organization))
    leader.postback(f"a=org.approve&id={org.id}")
    assert "ท่านอื่น" in leader.last_text()
