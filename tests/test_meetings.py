"""Meeting notices end to end: the flow and its preview, sending now or later, RSVP, reminders, changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from bot import meetings
from bot.models import MeetingNotice, MeetingRecipient, NoticeStatus, Role, RsvpAnswer
from bot.roles import grant

from .chat import actions_in, texts_in
from .helpers import person

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Wednesday 10:00 in Bangkok
COORD = "U" + "1" * 32
L1 = "U" + "2" * 32
L2 = "U" + "3" * 32
FAR = "U" + "4" * 32  # in เชียงราย: outside the coordinator's province


@pytest.fixture
def people(db):
    coordinator = person(db, COORD)
    coordinator.full_name = "ผู้ประสานงาน เชียงใหม่"
    grant(db, coordinator, Role.COORDINATOR, "province:50")
    person(db, L1).full_name = "มานี มีนา"
    person(db, L2).full_name = "ปิติ ชูใจ"
    person(db, FAR, province="57").full_name = "ชูใจ ไกลบ้าน"
    db.commit()
    return db


def deliver(services, at):
    at = at + timedelta(minutes=5)  # rows queued while the clock ticked on are due by then
    while services.sender.deliver(limit=50, now=at).claimed:
        pass


def create_notice(chat, when="2026-11-28T14:00"):
    coord = chat.user(COORD)
    coord.say("นัดประชุม")
    coord.say("ประชุมกองทุนสวัสดิการ")
    action = coord.action("เลือกวันเวลา")
    coord.postback(action["data"], params={"datetime": when})
    coord.say("ศาลาวัดบ้านแม่กำปอง")
    coord.location(18.86, 99.31, "บ้านแม่กำปอง ห้วยแก้ว แม่ออน เชียงใหม่")
    coord.say("นำสมุดบัญชีมาด้วยค่ะ")
    coord.tap("เชียงใหม่")
    coord.tap("สมาชิกทุกคน")
    coord.tap("เสร็จแล้ว")
    coord.tap("เสร็จแล้ว")  # no issue chosen: every issue
    assert "ตรวจหนังสือเชิญประชุม" in coord.last_text()
    coord.tap("บันทึก")
    return coord


def notice(db) -> MeetingNotice:
    db.commit()
    db.expire_all()
    return db.scalar(select(MeetingNotice).order_by(MeetingNotice.id.desc()))


def test_preview_says_the_quota_is_unknown_when_line_does_not_answer(chat, people, emulator):
    emulator.fail_next("/v2/bot/message/quota", 500)
    with time_machine.travel(NOW, tick=True):
        preview = create_notice(chat).last_text()
    assert "โควตาเดือนนี้เหลือ ไม่ทราบ" in preview and "ไม่จำกัด" not in preview


def test_preview_send_rsvp_who_goes_reminder_move_cancel(chat, people, services, emulator):
    db = people
    with time_machine.travel(NOW, tick=True):
        coord = create_notice(chat)
        preview = coord.last_text()
        assert "เชิญประชุม: ประชุมกองทุนสวัสดิการ" in preview and "ศาลาวัดบ้านแม่กำปอง" in preview
        # Two members in เชียงใหม่ besides the author; 500 this month in the emulator, none used.
        assert "ผู้รับ 2 คน · ใช้โควตา 2 ข้อความ · โควตาเดือนนี้เหลือ 500 ข้อความ" in preview
        assert notice(db).status is NoticeStatus.DRAFT
        assert emulator.messages_for(L1) == []
        coord.tap("ส่งเลย")
        assert "ส่งหนังสือเชิญถึง 2 คนแล้วค่ะ" in coord.last_text()
        deliver(services, NOW)
        l1, l2, far = chat.user(L1), chat.user(L2), chat.user(FAR)
        card = emulator.messages_for(L1)[0]
        assert card["type"] == "flex" and emulator.messages_for(L1)[1]["type"] == "location"
        assert emulator.messages_for(FAR) == []
        # Answers change; the last one counts and changes are counted.
        button = {a["label"]: a["data"] for a in actions_in(card)}
        l1.postback(button["ไม่สะดวก"])
        l1.postback(button["เข้าร่วม"])
        l2.postback(button["เข้าร่วม"])
        l2.postback(button["ยังไม่แน่ใจ"])
        assert "ยังไม่แน่ใจ" in l2.last_text()
        far.postback(card["contents"]["footer"]["contents"][0]["action"]["data"])
        assert "ไม่พบหนังสือเชิญ" in far.last_text()
        notice(db)  # a fresh read
        rows = {r.member.line_user_id: r for r in db.scalars(select(MeetingRecipient))}
        assert (rows[L1].answer, rows[L1].changes) == (RsvpAnswer.GOING, 1)
        assert (rows[L2].answer, rows[L2].changes) == (RsvpAnswer.MAYBE, 1)
        assert meetings.counts(db, notice(db)) == {RsvpAnswer.GOING: 1, RsvpAnswer.MAYBE: 1}

        coord.say("ใครเข้าร่วมบ้าง")
        who = coord.last_text()
        assert "เข้าร่วม 1 คน" in who and "ยังไม่แน่ใจ 1 คน" in who and "ไม่สะดวก 0 คน" in who
        assert "มานี มีนา" in who and "ปิติ ชูใจ" in who  # names: to the author, in 1:1 only
        group = chat.group("C" + "9" * 32)
        group.say(COORD, "ใครไปบ้าง")  # in a group: counts only, never names
        assert "เข้าร่วม 1 · ยังไม่แน่ใจ 1 · ไม่สะดวก 0" in group.last_text()
        assert "มานี" not in group.last_text() and "ปิติ" not in group.last_text()
        group.say(L1, "ใครไปบ้าง")
        assert "ขออภัยค่ะ" in group.last_text()
        l1.say("ใครไปบ้าง")
        assert "มานี มีนา" not in l1.last_text() and "ขออภัยค่ะ" in l1.last_text()
        l1.say("ประชุม")
        assert "ประชุมกองทุนสวัสดิการ" in l1.last_text() and "(เข้าร่วม)" in l1.last_text()

    # The day before, 09:00: a reminder to both (going, not sure), once.
    eve = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    with time_machine.travel(eve, tick=False):
        assert meetings.remind_tomorrow(services, eve) == 2
        assert meetings.remind_tomorrow(services, eve) == 2  # counted again, but queued nothing twice
        before = len(emulator.messages_for(L1))
        deliver(services, eve)
        assert len(emulator.messages_for(L1)) == before + 1
        assert "พรุ่งนี้มีประชุม:" in "\n".join(texts_in(emulator.messages_for(L1)[-1]))

    with time_machine.travel(NOW, tick=True):
        coord = chat.user(COORD)
        coord.say("ใครไปบ้าง")
        move = coord.action("เปลี่ยนเวลา")
        coord.postback(move["data"], params={"datetime": "2026-11-29T09:30"})
        assert "แจ้งผู้ที่ตอบว่าเข้าร่วมหรือยังไม่แน่ใจ 2 คนแล้ว" in coord.last_text()
        coord.tap("ยกเลิกประชุม")
        assert "ยกเลิกแล้วค่ะ" in coord.last_text()
        deliver(services, NOW)
    l2_texts = "\n".join(t for m in emulator.messages_for(L2) for t in texts_in(m))
    assert "เปลี่ยนเวลาประชุม: ประชุมกองทุนสวัสดิการ" in l2_texts and "ยกเลิกการประชุม" in l2_texts
    assert notice(db).status is NoticeStatus.CANCELLED


def test_scheduled_send_and_cancel(chat, people, services, emulator):
    db = people
    with time_machine.travel(NOW, tick=True):
        coord = create_notice(chat)
        later = coord.action("ตั้งเวลาส่ง")
        coord.postback(later["data"], params={"datetime": "2026-11-26T08:00"})
        assert "ตั้งเวลาส่งไว้" in coord.last_text()
        first = notice(db)
        assert first.status is NoticeStatus.SCHEDULED
        coord = create_notice(chat)
        later = coord.action("ตั้งเวลาส่ง")
        coord.postback(later["data"], params={"datetime": "2026-11-26T08:00"})
        coord.tap("ยกเลิกประชุม")
        second = notice(db)
        assert second.status is NoticeStatus.CANCELLED
    assert meetings.send_due(services, datetime(2026, 11, 26, 0, 59, tzinfo=timezone.utc)) == 0
    due = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    assert meetings.send_due(services, due) == 1
    assert meetings.send_due(services, due) == 0
    deliver(services, due)
    assert notice(db).id == second.id
    assert db.get(MeetingNotice, first.id).status is NoticeStatus.SENT
    assert len([m for m in emulator.messages_for(L1) if m["type"] == "flex"]) == 1  # the cancelled one never went


def test_only_coordinators_within_scope_or_the_secretariat_call_meetings(chat, people, services):
    db = people
    with time_machine.travel(NOW, tick=True):
        leader = chat.user(L1)
        leader.say("นัดประชุม")
        assert "ขออภัยค่ะ" in leader.last_text()
        coord = chat.user(COORD)
        coord.say("นัดประชุม")
        coord.say("ประชุม")  # also a button's name: asked first, then taken when typed again
        assert "พิมพ์อีกครั้ง" in coord.last_text()
        coord.say("ประชุม")
        action = coord.action("เลือกวันเวลา")
        coord.postback(action["data"], params={"datetime": "2026-11-20T10:00"})  # in the past
        assert "ผ่านไปแล้ว" in coord.last_text()
        coord.say("28/11/2569 14:00")  # typed Thai date and time
        assert "ประชุมที่ไหน" in coord.last_text()
    assert db.scalar(select(MeetingNotice)) is None


def test_meeting_time_typed_in_spoken_thai_or_iso(chat, people, clock_at):
    """The meetings flow reads moments with the voting flow's step: a relative day and a spoken Thai time,
    ISO 8601 as an import file would write it; the picker opens on the first whole hour an hour ahead."""
    db = people
    clock_at.move_to(NOW)  # Wednesday 10:00 in Bangkok
    coord = chat.user(COORD)
    coord.say("นัดประชุม")
    coord.say("ประชุมกองทุนสวัสดิการ")
    picker = coord.action("เลือกวันเวลา")
    assert (picker["initial"], picker["min"]) == ("2026-11-25T11:00", "2026-11-25T10:01")
    coord.say("2026-11-20T10:00+07:00")
    assert "ผ่านไปแล้ว" in coord.last_text()
    coord.say("2026-11-26T14:00+07:00")
    assert "ประชุมที่ไหน" in coord.last_text()
    coord.tap("ย้อนกลับ")
    coord.say("พรุ่งนี้ บ่าย 2 โมง")
    coord.say("ศาลาวัดบ้านแม่กำปอง")
    coord.tap("ข้าม")
    coord.tap("ข้าม")
    coord.tap("เชียงใหม่")
    coord.tap("สมาชิกทุกคน")
    coord.tap("เสร็จแล้ว")
    coord.tap("เสร็จแล้ว")
    assert coord.sees("ตรวจหนังสือเชิญประชุม", "26 พ.ย. 2569 14:00 น.")
    coord.tap("บันทึก")
    assert notice(db).starts_at == datetime(2026, 11, 26, 7, 0, tzinfo=timezone.utc)


def test_jobs_registered():
    from bot.schedule import build_registry

    registry = build_registry()
    assert registry.get("meeting_send_due") and registry.get("meeting_reminder")


def test_a_picker_value_is_read_like_any_date_and_time(chat, people):
    """The schedule picker's value goes through thai.parse_datetime, as typed dates and times do."""
    with time_machine.travel(NOW, tick=True):
        coord = create_notice(chat)
        later = coord.action("ตั้งเวลาส่ง")
        coord.postback(later["data"], params={"datetime": "ไม่ใช่วันที่"})
        assert "อ่านวันเวลานี้ไม่ออก" in coord.last_text()
        coord.postback(later["data"], params={"datetime": "2026-11-26T08:00"})
        assert "ตั้งเวลาส่งไว้" in coord.last_text()
