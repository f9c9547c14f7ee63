"""Activity reports end to end: the report flow with photos, my reports, correction and withdrawal."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from bot.models import (
    ActivityReport,
    ActivityType,
    BudgetSource,
    ConversationState,
    OrgStatus,
    PhotoStatus,
    ReportPhoto,
)


from .helpers import answer_until_photos, make_org, member_of, register, rollups_and_recount, tap_edit

U1 = "U" + "1" * 32
U2 = "U" + "2" * 32
# 25 Nov 2026, 10:00 in Bangkok.
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def reports(db) -> list[ActivityReport]:
    db.rollback()  # end the test session's read transaction: SQLite would keep showing its snapshot
    return list(db.scalars(select(ActivityReport).order_by(ActivityReport.id)))


def test_full_report_with_two_photos_and_a_location(chat, db, emulator, services, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน", issues=("councils",))
    make_org(db, U1, "สภาองค์กรชุมชนแม่แฝก", issues=("welfare",))

    leader.say("รายงานกิจกรรม")
    assert "องค์กรไหน" in leader.last_text()
    assert {"ออมทรัพย์บ้านดอน", "สภาองค์กรชุมชนแม่แฝก"} <= set(leader.chips())
    leader.tap("ออมทรัพย์บ้านดอน")
    # One question: the kind of activity, with the day (today) and the organization's own issue
    # filled in; another day is one chip away.
    assert "กิจกรรมแบบไหน" in leader.last_text()
    assert "วันที่: วันนี้ (25 พ.ย. 2569)" in leader.last_text() and "ประเด็นงาน: สภาองค์กรชุมชน" in leader.last_text()
    assert {"ประชุม", "กลุ่มออมทรัพย์", "ช่วยเหลือภัยพิบัติ", "อื่น ๆ", "วันอื่น"} <= set(leader.chips())
    leader.pick_date("วันอื่น", "2026-11-20")
    assert "วันที่: 20 พ.ย. 2569" in leader.last_text()
    leader.tap("ประชุม")
    assert "กี่คน" in leader.last_text()
    leader.say("๓๕ คน")
    leader.say("ประชุมประจำเดือน วางแผนกองทุนสวัสดิการ")
    assert leader.sees("ไม่เกิน 5 รูป")
    assert {"ถ่ายรูป", "เลือกจากอัลบั้ม", "ไม่มีรูป"} <= set(leader.chips())

    emulator.add_content("m-photo-1", JPEG, "image/jpeg")
    leader.image("m-photo-1")
    assert "ได้รับรูปแล้ว 1 รูป" in leader.last_text() and "อีก 4 รูป" in leader.last_text()
    assert "เสร็จแล้ว" in leader.chips()
    emulator.add_content("m-photo-2", PNG, "image/png")
    leader.image("m-photo-2")
    assert "ได้รับรูปแล้ว 2 รูป" in leader.last_text()
    leader.tap("เสร็จแล้ว")

    # The location is not asked: the card offers it.
    assert "งบประมาณ" in leader.last_text()
    leader.say("2,500")
    assert {"กองทุนชุมชน", "พอช.", "อบต./เทศบาล"} <= set(leader.chips())
    leader.tap("พอช.")
    assert leader.sees("ตรวจรายงานกิจกรรม")
    assert "ส่งตำแหน่ง" in leader.chips()
    leader.location(18.8, 99.05, "ศาลาประชาคมบ้านดอน")
    assert "ได้รับตำแหน่งแล้ว" in leader.last_text()
    # The issue was the organization's own; the person changes it on the card.
    tap_edit(leader, "issue")
    assert leader.chips()[0] == "สภาองค์กรชุมชน"  # the organization's own issue comes first
    leader.tap("สวัสดิการชุมชน")

    assert leader.sees("ตรวจรายงานกิจกรรม", "ออมทรัพย์บ้านดอน", "ประชุม", "สวัสดิการชุมชน", "20 พ.ย. 2569",
                       "35", "2 รูป", "ศาลาประชาคมบ้านดอน", "2,500 บาท", "พอช.")
    leader.tap("บันทึก")
    assert "บันทึกรายงานของ \"ออมทรัพย์บ้านดอน\"" in leader.last_text()
    assert "เดือนนี้องค์กรมีรายงานแล้ว 1 ครั้ง" in leader.last_text()

    [report] = reports(db)
    assert report.organization.name == "ออมทรัพย์บ้านดอน"
    assert report.author_id == member_of(db, U1).id
    assert report.activity_type is ActivityType.MEETING and report.issue.code == "welfare"
    assert report.activity_date == date(2026, 11, 20) and report.participants == 35
    assert report.description == "ประชุมประจำเดือน วางแผนกองทุนสวัสดิการ"
    assert (report.latitude, report.longitude, report.address) == (18.8, 99.05, "ศาลาประชาคมบ้านดอน")
    assert report.budget == Decimal("2500.00") and report.budget_source is BudgetSource.CODI
    assert report.withdrawn_at is None
    photos = report.photos
    assert [p.status for p in photos] == [PhotoStatus.STORED, PhotoStatus.STORED]
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png"]
    assert services.media.get(photos[0].path) == JPEG
    assert services.media.get(photos[1].path) == PNG
    assert db.scalar(select(ConversationState)) is None


def test_single_organization_is_not_asked_and_typed_thai_date(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    leader.say("รายงาน")
    assert "รายงานกิจกรรมของ \"ออมทรัพย์บ้านดอน\"" in leader.last_text()
    assert "กิจกรรมแบบไหน" in leader.last_text()
    leader.say("24 พ.ย. 69")  # another day, typed at the same question
    assert "วันที่: 24 พ.ย. 2569" in leader.last_text()
    leader.say("อบรม")  # typed instead of tapped
    leader.say("20")
    leader.say("อบรมการทำบัญชีกองทุน")
    leader.tap("ไม่มีรูป")
    leader.tap("ไม่ได้ใช้งบ")  # budget: its source is then not asked
    assert leader.sees("ตรวจรายงานกิจกรรม", "24 พ.ย. 2569", "ไม่มีรูป", "สวัสดิการชุมชน")
    assert not leader.sees("แหล่งงบประมาณ")
    leader.say("บันทึก")
    [report] = reports(db)
    assert report.activity_type is ActivityType.TRAINING and report.issue.code == "welfare"
    assert report.activity_date == date(2026, 11, 24)
    assert (report.budget, report.budget_source, report.latitude, report.photos) == (None, None, None, [])


def test_typed_relative_date_future_date_and_long_text_are_handled_kindly(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    leader.say("report")
    leader.say("30/11/2569")
    assert "ยังมาไม่ถึง" in leader.last_text()
    assert "กิจกรรมแบบไหน" in leader.last_text() and "วันที่: วันนี้ (25 พ.ย. 2569)" in leader.last_text()  # asked again
    leader.say("เมื่อวาน")
    leader.tap("ประชุม")
    leader.say("12")
    leader.say("ก" * 1001)
    assert "1,001 ตัวอักษร" in leader.last_text() and "1,000" in leader.last_text()
    leader.say("ประชุมสั้น ๆ")
    assert "รูป" in leader.last_text()
    leader.tap("ไม่มีรูป")
    leader.tap("ไม่ได้ใช้งบ")
    leader.tap("บันทึก")
    [report] = reports(db)
    assert report.activity_date == date(2026, 11, 24) and report.description == "ประชุมสั้น ๆ"


@pytest.mark.parametrize("failure", ["404", "410", "500"])
def test_photo_download_failure_keeps_the_report(chat, db, emulator, clock, failure):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    emulator.add_content("m-ok", JPEG)
    leader.image("m-ok")
    if failure == "410":
        emulator.expire_content("m-gone")  # LINE already deleted it
    elif failure == "500":
        emulator.add_content("m-gone", JPEG)
        emulator.fail_next("/v2/bot/message/m-gone/content", status=500)  # LINE having a bad moment
    leader.image("m-gone")  # for 404 the emulator simply has no such content
    assert "รับรูปนี้ไม่สำเร็จ" in leader.last_text() and "บันทึกต่อได้" in leader.last_text()
    assert "ได้รับรูปแล้ว 2 รูป" in leader.last_text()
    leader.tap("เสร็จแล้ว")
    leader.tap("ไม่ได้ใช้งบ")
    assert leader.sees("2 รูป (รับไม่สำเร็จ 1 รูป)")
    leader.tap("บันทึก")
    [report] = reports(db)
    stored, missing = report.photos
    assert stored.status is PhotoStatus.STORED and stored.path
    assert missing.status is PhotoStatus.MISSING and missing.path is None
    assert missing.line_message_id == "m-gone" and failure in missing.error


def test_after_five_photos_the_flow_moves_on(chat, db, emulator, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    for n in range(1, 6):
        emulator.add_content(f"m{n}", JPEG)
        leader.image(f"m{n}")
    assert "งบประมาณ" in leader.last_text()
    state = db.scalar(select(ConversationState))
    assert len(state.answers["photos"]) == 5


def test_not_an_image_is_refused_without_storing(chat, db, emulator, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    emulator.add_content("m-doc", b"%PDF-1.7 not a photo", "application/pdf")
    leader.image("m-doc")
    assert "ไม่ใช่รูปภาพ" in leader.last_text()
    leader.say("สวัสดี")
    assert "ข้อนี้ขอเป็นรูปภาพ" in leader.last_text()
    assert db.scalar(select(func.count(ReportPhoto.id))) == 0


def test_edit_one_field_from_the_confirm_card(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    leader.tap("ไม่มีรูป")
    leader.tap("ไม่ได้ใช้งบ")
    tap_edit(leader, "participants")
    assert "คำตอบเดิม: 35" in leader.last_text()
    leader.say("40")
    assert leader.sees("ตรวจรายงานกิจกรรม", "40")
    # Adding a budget from the card makes its source necessary: it is asked at once,
    # then the card comes back.
    tap_edit(leader, "budget")
    leader.say("1500")
    assert "กองทุนชุมชน" in leader.chips()
    assert reports(db) == []
    leader.tap("กองทุนชุมชน")
    assert leader.sees("ตรวจรายงานกิจกรรม", "1,500")
    leader.tap("บันทึก")
    [report] = reports(db)
    assert report.participants == 40
    assert report.budget == Decimal("1500.00") and report.budget_source is BudgetSource.COMMUNITY_FUND


def save_quick_report(leader, description="ประชุมประจำเดือน วางแผนออมทรัพย์"):
    answer_until_photos(leader, org=None, description=description)
    leader.tap("ไม่มีรูป")
    leader.tap("ไม่ได้ใช้งบ")
    leader.tap("บันทึก")


def test_my_reports_lists_the_latest_five(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    leader.say("รายงานของฉัน")
    assert "ยังไม่มีรายงาน" in leader.last_text()
    for n in range(6):
        save_quick_report(leader, description=f"กิจกรรมครั้งที่ {n + 1}")
    assert "เดือนนี้องค์กรมีรายงานแล้ว 6 ครั้ง" in leader.last_text()
    assert "รายงานของฉัน" in leader.chips()
    leader.tap("รายงานของฉัน")
    carousel = leader.last_message()
    assert carousel["type"] == "flex" and carousel["contents"]["type"] == "carousel"
    assert len(carousel["contents"]["contents"]) == 5
    assert leader.sees("กิจกรรมครั้งที่ 6", "กิจกรรมครั้งที่ 2", "แก้ไข", "ถอนรายงาน")
    assert not leader.sees("กิจกรรมครั้งที่ 1")


def test_correction_updates_the_same_report(chat, db, emulator, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    emulator.add_content("m1", JPEG)
    leader.image("m1")
    leader.tap("เสร็จแล้ว")
    leader.tap("ไม่ได้ใช้งบ")
    leader.tap("บันทึก")
    [original] = reports(db)

    leader.say("รายงานของฉัน")
    leader.tap("แก้ไข")
    assert leader.sees("ตรวจรายงานกิจกรรม", "ประชุมประจำเดือน วางแผนออมทรัพย์", "1 รูป")
    tap_edit(leader, "description")
    leader.say("ประชุมประจำเดือน แก้ไขรายละเอียด")
    tap_edit(leader, "photos")
    assert "ได้รับรูปแล้ว 1 รูป" in leader.last_text()  # starts from the photo already sent
    emulator.add_content("m2", PNG, "image/png")
    leader.image("m2")
    leader.tap("เสร็จแล้ว")
    leader.tap("บันทึก")
    assert "แก้ไขรายงานของ" in leader.last_text()
    [corrected] = reports(db)
    assert corrected.id == original.id
    assert corrected.description == "ประชุมประจำเดือน แก้ไขรายละเอียด"
    assert [p.line_message_id for p in corrected.photos] == ["m1", "m2"]
    stored, recount = rollups_and_recount(db)  # the digest's daily rollups followed the correction
    assert stored == recount and sum(stored[1].values()) == 1


def test_withdraw_within_seven_days(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    save_quick_report(leader)
    clock.shift(timedelta(days=6))
    leader.say("รายงานของฉัน")
    leader.tap("ถอนรายงาน")
    assert leader.sees("ถอนรายงานนี้ไหม")
    leader.tap("ยืนยันถอนรายงาน")
    assert "ถอนรายงานของ" in leader.last_text()
    [report] = reports(db)
    assert report.withdrawn_at is not None
    stored, recount = rollups_and_recount(db)  # the withdrawn report left the digest's daily rollups
    assert stored == recount == ({}, {})
    leader.say("รายงานของฉัน")
    assert "ยังไม่มีรายงาน" in leader.last_text()


def test_after_seven_days_a_report_can_no_longer_change(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    save_quick_report(leader)
    [report] = reports(db)
    clock.shift(timedelta(days=7, hours=1))
    leader.say("รายงานของฉัน")
    assert leader.sees("เกิน 7 วันแล้ว")
    assert not leader.sees("ถอนรายงาน")
    # An old button (or a forged one) is checked on the server, not trusted.
    leader.postback(f"a=report.withdraw_do&id={report.id}")
    assert "เกิน 7 วันแล้ว" in leader.last_text()
    leader.postback(f"a=report.edit&id={report.id}")
    assert "เกิน 7 วันแล้ว" in leader.last_text()
    assert reports(db)[0].withdrawn_at is None
    assert db.scalar(select(ConversationState)) is None


def test_another_member_cannot_withdraw_or_edit(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    save_quick_report(leader)
    [report] = reports(db)
    other = register(chat, user_id=U2, name="สมชาย ใจกล้า", phone="0898765432")
    # Someone else's report, or none: the same stale-button answer, so ids reveal nothing.
    other.postback(f"a=report.withdraw_do&id={report.id}")
    assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in other.last_text()
    other.postback(f"a=report.edit&id={report.id}")
    assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in other.last_text()
    other.postback("a=report.withdraw&id=999999")
    assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in other.last_text()
    assert reports(db)[0].withdrawn_at is None


def test_contact_person_may_report_and_menu_offers_reporting(chat, db, clock):
    leader = register(chat)
    leader.say("เมนู")
    assert "รายงานกิจกรรม" not in leader.chips()
    leader.say("รายงาน")
    assert "ยังไม่มีองค์กร" in leader.last_text()
    make_org(db, U1, "ออมทรัพย์บ้านดอน", as_contact=True)
    leader.say("เมนู")
    assert {"รายงานกิจกรรม", "รายงานของฉัน"} <= set(leader.chips())
    leader.tap("รายงานกิจกรรม")
    assert "ออมทรัพย์บ้านดอน" in leader.last_text()


def test_rejected_organization_does_not_report(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "กลุ่มที่ไม่ผ่าน", status=OrgStatus.REJECTED)
    leader.say("รายงานกิจกรรม")
    assert "ยังไม่มีองค์กร" in leader.last_text()


def test_english_speaker_reports_in_english(chat, db, clock):
    leader = chat.user(U1)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say("John Smith")
    leader.say("0812345678")
    leader.say("เชียงใหม่")
    leader.tap("บันทึก")
    leader.tap("ภาษา / Language")
    leader.tap("English")
    make_org(db, U1, "Ban Don savings group")
    leader.say("report")
    assert "What kind of activity" in leader.last_text()
    assert "Date: today (25 Nov 2026)" in leader.last_text() and "Issue: Welfare" in leader.last_text()
    leader.tap("Meeting")
    leader.say("12")
    leader.say("Monthly meeting")
    leader.tap("No photo")
    leader.say("about 40 people")
    assert "not a number of people" in leader.last_text() and "No budget used" in leader.last_text()
    leader.say("800")
    leader.tap("Local government")
    assert leader.sees("Check your report", "25 Nov 2026", "฿800", "Local government")
    leader.tap("Save")
    assert "This month the organization has 1 report(s)" in leader.last_text()
    [report] = reports(db)
    assert report.budget_source is BudgetSource.LOCAL_GOVERNMENT


def test_description_without_words_is_refused_and_asked_again(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None, description="😀😀😀")
    for nothing in ["😀😀😀", "555", "ๆๆๆๆ", "......", "aaaaa"]:
        if nothing != "😀😀😀":
            leader.say(nothing)
        assert "ขอรายละเอียดกิจกรรมเป็นตัวหนังสือนะคะ" in leader.last_text(), nothing
        assert "ไม่มีรูป" not in leader.chips(), nothing  # still at the description
    leader.say("ปลูกป่า 20 ไร่")
    assert "ไม่มีรูป" in leader.chips()


def test_budget_takes_typed_skip_words_and_refuses_people_as_baht(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    leader.tap("ไม่มีรูป")
    assert "ไม่ได้ใช้งบ" in leader.chips()
    leader.say("ประมาณ 40 คน")
    text = leader.last_text()
    assert "จำนวนเงินเป็นบาท" in text and "ไม่ใช่จำนวนคน" in text
    assert 'กด "ไม่ได้ใช้งบ" หรือพิมพ์ว่า "ไม่ได้ใช้งบ"' in text  # every refusal says how to skip
    assert db.scalar(select(ConversationState)).step == "budget"  # still asked, nothing saved
    leader.say("abc")
    assert "ไม่ได้ใช้งบ" in leader.last_text()
    leader.say("ไม่ได้ใช้ค่ะ")  # typed skip word
    assert leader.sees("ตรวจรายงานกิจกรรม", "ไม่ได้ใช้งบ")  # the card says it in the chip's words
    assert not leader.sees("แหล่งงบประมาณ")
    tap_edit(leader, "budget")
    leader.say("ไม่ได้ใช้งบ")  # the chip's words, typed
    leader.tap("บันทึก")
    [report] = reports(db)
    assert (report.budget, report.budget_source) == (None, None)


def test_organization_names_cut_alike_are_numbered(chat, db, clock):
    leader = register(chat)
    first = make_org(db, U1, "กลุ่มออมทรัพย์เพื่อการผลิตบ้านดอนหมู่ 1", issues=("housing",))
    second = make_org(db, U1, "กลุ่มออมทรัพย์เพื่อการผลิตบ้านดอนหมู่ 2", issues=("land",))
    leader.say("รายงานกิจกรรม")
    text = leader.last_text()
    assert "1. กลุ่มออมทรัพย์เพื่อการผลิตบ้านดอนหมู่ 1\n2. กลุ่มออมทรัพย์เพื่อการผลิตบ้านดอนหมู่ 2" in text
    assert leader.chips()[:2] == ["1", "2"]
    leader.say("๒")  # typed, Thai digit
    assert "กิจกรรมแบบไหน" in leader.last_text()
    state = db.scalar(select(ConversationState))
    assert state.answers["org"] == str(second.id) and state.answers["issue"] == "land"
    leader.postback("cmd=report")  # the rich menu's button, mid-report: asks before starting over
    leader.tap("ทิ้ง ไปเรื่องใหม่")
    leader.tap("1")
    db.rollback()
    assert db.scalar(select(ConversationState)).answers["org"] == str(first.id)


def test_the_issue_follows_the_organization_changed_on_the_card(chat, db, clock):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน", issues=("housing",))
    make_org(db, U1, "สภาองค์กรชุมชนแม่แฝก", issues=("councils",))
    answer_until_photos(leader, org="ออมทรัพย์บ้านดอน")
    leader.tap("ไม่มีรูป")
    leader.tap("ไม่ได้ใช้งบ")
    assert leader.sees("ตรวจรายงานกิจกรรม", "บ้านมั่นคง")
    tap_edit(leader, "org")
    leader.tap("สภาองค์กรชุมชนแม่แฝก")
    # The issue was derived, so it follows; the day the person picked (yesterday) stays.
    assert leader.sees("ตรวจรายงานกิจกรรม", "24 พ.ย. 2569")
    assert not leader.sees("บ้านมั่นคง")
    assert db.scalar(select(ConversationState)).answers["issue"] == "councils"
    db.rollback()
    tap_edit(leader, "issue")
    leader.tap("ที่ดิน")
    tap_edit(leader, "org")
    leader.tap("ออมทรัพย์บ้านดอน")
    assert leader.sees("ที่ดิน")  # chosen by the person: kept
    leader.tap("บันทึก")
    [report] = reports(db)
    assert report.organization.name == "ออมทรัพย์บ้านดอน" and report.issue.code == "land"
    assert report.activity_date == date(2026, 11, 24)
