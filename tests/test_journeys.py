"""The five journeys of issue #13, counted: what a 65-year-old leader must type and tap, and how
many questions the bot asks, with a way forward in every reply of the 1:1 chat.

| journey | target |
|---|---|
| register yourself | ≤ 2 typed, ≤ 4 taps |
| register an organization | ≤ 3 typed, ≤ 7 taps |
| monthly activity report | ≤ 5 questions, ≤ 2 typed |
| cast a vote that cannot be changed | 2 taps, the second a confirmation |
| replies without a button in 1:1 | none |

Each journey is walked through the real `chat` fixture (signed webhooks, the emulator's replies);
`helpers.Journey` does the counting.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot import assembly
from bot.models import ActivityReport, AgendaItem, AssemblySession, Member, Organization, Role, utcnow
from bot.roles import grant

from .chat import actions_in
from .helpers import U1, U2, Journey, make_org, member_of, register

pytestmark = pytest.mark.usefixtures("frozen_now")


def test_register_yourself(chat, db):
    me = Journey(chat.user(U1), db)
    me.follow()
    me.tap("ยินยอม")
    me.say("สมศรี ใจดี")
    me.say("081-234-5678")
    me.tap("ภาคเหนือ")
    me.tap("เชียงราย")
    assert me.sees("ตรวจข้อมูลของคุณ", "สมศรี ใจดี", "เชียงราย")
    me.tap("บันทึก")
    assert "ลงทะเบียนเรียบร้อย" in me.last_text()
    assert (me.typed, me.taps) == (2, 4)
    assert [step for _flow, step in me.questions] == ["full_name", "phone", "province"]  # no language
    assert me.dead_ends == []
    member = member_of(db, U1)
    assert member.is_registered and member.locale == "th" and member.province.name_th == "เชียงราย"


def test_register_an_organization(chat, db):
    register(chat)  # the journey above
    me = Journey(chat.user(U1), db)
    me.tap("ลงทะเบียนองค์กร")  # from the menu under the last reply
    me.say("กลุ่มออมทรัพย์บ้านแม่แฝก")
    me.tap("กลุ่มออมทรัพย์")
    me.say("ต.แม่แฝก อ.สันทราย")
    me.tap("สวัสดิการชุมชน")
    me.tap("เสร็จแล้ว")
    me.tap("50")
    me.tap("ข้าม")  # the founding year, optional
    # The province and the contact phone are the leader's own: on the card, not asked.
    assert me.sees("ตรวจข้อมูลองค์กร", "เชียงใหม่", "081-234-5678")
    me.tap("บันทึก")
    assert me.typed <= 3 and me.taps <= 7, (me.typed, me.taps)
    assert me.dead_ends == []
    org = db.scalar(select(Organization))
    assert (org.name, org.province.name_th, org.contact_phone, org.member_count, org.founded_year) == (
        "กลุ่มออมทรัพย์บ้านแม่แฝก", "เชียงใหม่", "0812345678", 50, None)


def test_register_an_organization_typing_the_year(chat, db):
    register(chat)
    me = Journey(chat.user(U1), db)
    me.tap("ลงทะเบียนองค์กร")
    me.say("กลุ่มออมทรัพย์บ้านแม่แฝก")
    me.tap("อื่น ๆ")  # on the first page of types
    me.say("ต.แม่แฝก อ.สันทราย")
    me.tap("บ้านมั่นคง")
    me.tap("เสร็จแล้ว")
    me.tap("100")
    me.say("ไม่ทราบ")  # a typed skip word works like the chip
    me.tap("บันทึก")
    assert (me.typed, me.taps) == (3, 6)
    assert me.dead_ends == []
    org = db.scalar(select(Organization))
    assert org.org_type == "other" and org.founded_year is None


def test_monthly_activity_report(chat, db):
    register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    me = Journey(chat.user(U1), db)
    me.postback("cmd=report", "รายงานกิจกรรม (rich menu / reminder)")
    assert "กิจกรรมแบบไหน" in me.last_text() and "วันนี้" not in me.chips()  # today is already filled in
    me.tap("ประชุม")
    me.tap("30")
    assert "ไมโครโฟน" in me.last_text()  # the keyboard's microphone can speak the description
    me.say("ประชุมประจำเดือน วางแผนกองทุนสวัสดิการ")
    me.tap("ไม่มีรูป")
    me.tap("ไม่ได้ใช้งบ")
    assert me.sees("ตรวจรายงานกิจกรรม", "ประชุม", "สวัสดิการชุมชน", "18 พ.ย. 2569", "30")
    me.tap("บันทึก")
    assert "บันทึกรายงานของ" in me.last_text()
    assert [step for _flow, step in me.questions] == ["activity_type", "participants", "description", "photos",
                                                      "budget"]
    assert len(me.questions) <= 5 and me.typed <= 2
    assert me.dead_ends == []
    [report] = db.scalars(select(ActivityReport)).all()
    assert (report.activity_type.value, report.issue.code, report.participants, report.budget) == (
        "meeting", "welfare", 30, None)


def test_monthly_report_another_day_a_location_and_a_budget(chat, db):
    register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    me = Journey(chat.user(U1), db)
    me.postback("cmd=report", "รายงานกิจกรรม")
    me.pick_date("วันอื่น", "2026-11-15")
    me.tap("อบรม/ศึกษาดูงาน")
    me.say("๒๕ คน")
    me.say("อบรมการทำบัญชี")
    me.tap("ไม่มีรูป")
    me.say("ประมาณ 40 คน")  # people, not baht: refused kindly, saying what is asked and how to skip
    assert "จำนวนเงินเป็นบาท" in me.last_text() and "ไม่ได้ใช้งบ" in me.last_text()
    me.say("1,500 บาท")
    me.tap("พอช.")
    me.location(18.8, 99.05, "ศาลาประชาคม")  # offered on the card, never asked
    me.tap("บันทึก")
    assert me.dead_ends == []
    steps = [step for _flow, step in me.questions]
    assert "location" not in steps and "activity_date" not in steps and "issue" not in steps
    # A first budget brings its source: one question more than the shortest report.
    assert steps == ["activity_type", "participants", "description", "photos", "budget", "budget_source"]
    [report] = db.scalars(select(ActivityReport)).all()
    assert report.activity_date.isoformat() == "2026-11-15" and report.participants == 25
    assert report.budget == Decimal("1500") and report.address == "ศาลาประชาคม"
    assert report.budget_source.value == "codi"

    # Next month the source is the one used last time: on the card, not asked.
    again = Journey(chat.user(U1), db)
    again.postback("cmd=report", "รายงานกิจกรรม")
    again.tap("อบรม/ศึกษาดูงาน")
    again.say("30")
    again.say("อบรมการทำบัญชี ครั้งที่ 2")
    again.tap("ไม่มีรูป")
    again.say("2000")
    assert again.sees("พอช.")
    again.tap("บันทึก")
    assert [step for _flow, step in again.questions] == [
        "activity_type", "participants", "description", "photos", "budget"]
    assert again.dead_ends == [] and len(again.questions) <= 5
    db.expire_all()
    latest = db.scalars(select(ActivityReport).order_by(ActivityReport.id.desc())).first()
    assert latest.budget == Decimal("2000") and latest.budget_source.value == "codi"


def _delegate_with_open_item(chat, db, services):
    member = Member(line_user_id=U2, full_name="ผู้แทน เหนือ", display_name="ผู้แทน", locale="th", active=True)
    db.add(member)
    db.flush()
    grant(db, member, Role.DELEGATE, "province:50")
    now = utcnow()
    item = AgendaItem(
        session=AssemblySession(name="สมัชชาทดสอบ", held_on=now.date(), place="กรุงเทพฯ"),
        title="รับรองแผนงานปี 2570", description="แผนงานขบวนปีหน้า", secret=True,
        opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(days=2), allow_change=False,
        abstain_index=assembly.DEFAULT_ABSTAIN, token=assembly.new_token())
    db.add(item)
    db.commit()
    opened = assembly.open_item(db, item, now, services.settings.timezone)
    db.commit()
    services.sender.deliver(ids=opened.outbox_ids)
    return chat.user(U2, "ผู้แทน"), item


def test_cast_a_vote_that_cannot_be_changed(chat, db, services):
    delegate, item = _delegate_with_open_item(chat, db, services)
    ballot = [a for m in delegate.all_messages() for a in actions_in(m)
              if a.get("label") == "เห็นด้วย" and a.get("data", "").startswith("a=vote&")]
    assert ballot, "the ballot was pushed"
    me = Journey(delegate, db)
    me.postback(ballot[-1]["data"], "เห็นด้วย on the ballot")
    assert "ยืนยันเลือก «เห็นด้วย» ไหมคะ" in me.last_text()
    db.rollback()
    assert assembly.tally(db, db.get(AgendaItem, item.id)).counts == [0, 0, 0]  # nothing before confirming
    me.tap("ยืนยัน")
    assert me.taps == 2 and me.typed == 0
    assert me.dead_ends == []
    db.rollback()
    assert assembly.tally(db, db.get(AgendaItem, item.id)).counts == [1, 0, 0]
