"""Follow → consent → leader registration, through signed webhooks and the emulator."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import ConversationState, Member, Role

from .helpers import U1, register


def test_follow_greets_in_thai_and_asks_consent(chat, db):
    leader = chat.user(U1)
    leader.follow()
    assert "สวัสดี" in leader.last_text()
    assert leader.sees("ยินยอม", "ไม่ยินยอม")
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member is not None and member.consent_at is None and member.display_name is None


def test_decline_stores_nothing_but_the_line_id(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ไม่ยินยอม")
    assert "ไม่ได้เก็บข้อมูล" in leader.last_text()
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert (member.full_name, member.phone, member.display_name, member.consent_at) == (None, None, None, None)
    assert db.scalar(select(ConversationState)) is None


def test_full_registration(chat, db):
    leader = register(chat)
    assert "ลงทะเบียนเรียบร้อย" in leader.last_text()
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member.full_name == "สมศรี ใจดี"
    assert member.phone == "0812345678"
    assert member.province.name_th == "เชียงใหม่"
    assert member.display_name == "สมศรี"  # from the profile API
    assert member.consent_at is not None and member.registered_at is not None
    assert [g.role for g in member.roles] == [Role.LEADER]
    assert db.scalar(select(ConversationState)) is None


def test_province_by_region_taps_and_english(chat, db):
    leader = chat.user(U1)
    leader.follow()
    # No language question while registering: English is chosen from the language menu, any time.
    leader.say("English")
    leader.tap("English")
    leader.tap("Register")
    leader.tap("I agree")
    leader.say("John Smith")
    leader.say("+66 81 234 5678")
    assert "North" in leader.chips()
    leader.tap("North")
    assert "Chiang Rai" in leader.chips()
    leader.tap("Chiang Rai")
    assert leader.sees("Check your details", "Chiang Rai")
    assert not leader.sees("Which language")
    leader.tap("Save")
    assert "registered" in leader.last_text()
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member.locale == "en" and member.phone == "0812345678"


def test_registration_asks_no_language_and_speaks_thai(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    assert "3 ข้อ" in leader.last_text()
    leader.say("สมศรี ใจดี")
    leader.say("0812345678")
    leader.tap("ภาคเหนือ")
    leader.tap("เชียงราย")
    assert leader.sees("ตรวจข้อมูลของคุณ", "เชียงราย")
    assert not leader.sees("ภาษา")
    leader.tap("บันทึก")
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member.locale == "th" and member.is_registered
    # English stays one tap away in my info.
    leader.tap("ข้อมูลของฉัน")
    assert leader.sees("ภาษา / Language")


def test_typo_in_province_and_thai_digits(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมชาย")
    leader.say("๐๘๑๒๓๔๕๖๗๘")
    leader.say("เชียงไหม่")
    assert leader.sees("ตรวจข้อมูลของคุณ") or leader.sees("หมายถึง")
    if leader.sees("หมายถึง"):
        leader.tap("เชียงใหม่")
    leader.tap("บันทึก")
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member.province.name_th == "เชียงใหม่" and member.phone == "0812345678"


def test_bad_phone_gets_kind_reprompt(chat):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมศรี ใจดี")
    leader.say("12345")
    assert "เบอร์โทรไม่ถูกต้อง" in leader.last_text()
    assert "ยกเลิก" in leader.chips()


def test_sticker_where_text_expected(chat):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.sticker()
    assert "ข้อความ" in leader.last_text()
    assert "ชื่อ" in leader.last_text()


def test_back_restores_the_earlier_answer(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมศรี ใจดี")
    leader.say("ย้อนกลับ")
    assert "คำตอบเดิม: สมศรี ใจดี" in leader.last_text()
    leader.tap("ใช้คำตอบเดิม")
    assert "เบอร์โทร" in leader.last_text()
    leader.say("0812345678")
    leader.say("ลำปาง")
    assert leader.sees("สมศรี ใจดี", "ลำปาง")


def test_cancel_ends_flow_without_saving(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมศรี ใจดี")
    leader.tap("ยกเลิก")
    assert "ยกเลิก" in leader.last_text()
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member.full_name is None
    assert db.scalar(select(ConversationState)) is None


def test_edit_one_field_from_the_summary_card(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("สมศรี ใจดี")
    leader.say("0812345678")
    leader.say("ลำปาง")
    leader.tap("แก้ไข")  # first edit link: the name
    leader.say("สมศรี ใจงาม")
    assert leader.sees("ตรวจข้อมูลของคุณ", "สมศรี ใจงาม", "ลำปาง")
    leader.tap("บันทึก")
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member.full_name == "สมศรี ใจงาม" and member.province.name_th == "ลำปาง"


def test_unfollow_marks_inactive_and_keeps_data(chat, db):
    leader = register(chat)
    leader.unfollow()
    db.rollback()  # end the read snapshot; see what the bot committed since
    member = db.scalar(select(Member).where(Member.line_user_id == U1))
    assert member.active is False and member.full_name == "สมศรี ใจดี"
    leader.follow()
    assert "ยินดีต้อนรับกลับ" in leader.last_text()


def test_province_paging_chips_survive_when_editing(chat, db):
    leader = register(chat)
    leader.say("แก้ไขข้อมูล")  # typed: straight to the card of one's details
    province_edit = [a for a in leader.replies()[-1]["contents"]["body"]["contents"]
                     if a.get("type") == "box" and "จังหวัด" in str(a)][0]
    leader.postback(province_edit["contents"][-1]["action"]["data"])
    assert "ใช้คำตอบเดิม" in leader.chips()
    leader.tap("ภาคเหนือ")
    chips = leader.chips()
    assert {"ดูเพิ่ม ▶", "ภาคอื่น", "ใช้คำตอบเดิม", "ย้อนกลับ", "ยกเลิก"} <= set(chips) and len(chips) <= 13
    leader.tap("ดูเพิ่ม ▶")
    leader.tap("ลำปาง")
    assert leader.sees("ตรวจข้อมูลของคุณ", "ลำปาง")


def test_name_without_letters_is_refused_with_what_is_wanted(chat, db):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    for nothing in ["😀😀", "555", "ๆๆๆๆ", "!!!", "กกกก"]:
        leader.say(nothing)
        assert "ขอชื่อ-นามสกุลเป็นตัวหนังสือนะคะ" in leader.last_text(), nothing
    leader.say("สมศรี ใจดี")
    assert "เป็นตัวหนังสือ" not in leader.last_text()
    state = db.scalar(select(ConversationState))
    assert state.answers["full_name"] == "สมศรี ใจดี" and state.step == "phone"


def test_register_again_offers_an_organization_or_my_details(chat, db):
    leader = register(chat)
    for asked in ("ลงทะเบียน", "ลงทะเบียนค่ะ"):
        leader.say(asked)
        assert "ลงทะเบียนไว้แล้ว" in leader.last_text()
        assert leader.chips() == ["ลงทะเบียนองค์กร", "แก้ไขข้อมูลของฉัน"]
        assert db.scalar(select(ConversationState)) is None  # nothing opened silently
    leader.tap("แก้ไขข้อมูลของฉัน")
    assert leader.sees("ตรวจข้อมูลของคุณ", "สมศรี ใจดี", "เชียงใหม่")
    leader.tap("ยกเลิก")
    leader.say("ลงทะเบียน")
    leader.tap("ลงทะเบียนองค์กร")
    assert "องค์กรชื่ออะไร" in leader.last_text()
