"""Erasure means erased: after "ลบข้อมูลของฉัน" the name, phone and LINE display name are in no table.

The person registers, registers organizations (each one pushes a certification card naming them
and their phone to the coordinator: one delivered, one still retrying, one failed for good), writes
a report quoting their own name, and someone else starts a flow with their phone. Then they erase,
and every column of every table is read back and searched.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import time_machine
from sqlalchemy import select

from bot.erasure import REDACTED, erase_member, needles_of, redact_value
from bot.models import (ActivityReport, ActivityType, Base, ConversationState, Member, Organization, OrgStatus,
                        OutboxMessage, OutboxStatus, utcnow)

from . import helpers
from .helpers import COORD, make_coordinator

PERSON = "U" + "9" * 32
OTHER = "U" + "8" * 32
NAME = "ทดสอบลบข้อมูล"
DISPLAY = "DisplayErase"
PHONE = "0891234567"
# Every spelling the phone may have been stored or shown in.
FORMS = [NAME, DISPLAY, PHONE, "089-123-4567", "089 123 4567", "+66891234567", "+66 89 123 4567"]
PUSH = "/v2/bot/message/push"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # 10:00 in Bangkok


def register_person(chat, display: str = DISPLAY):
    person = chat.user(PERSON, display)
    person.follow()
    person.tap("ยินยอม")
    person.say(NAME)
    person.say("089-123-4567")
    person.say("เชียงใหม่")
    person.tap("บันทึก")
    return person


def register_org(leader, name: str, phone: str = "089-123-4567", save: bool = True) -> None:
    helpers.register_org(leader, name, phone=phone)
    if save:
        leader.tap("บันทึก")


def every_value(db) -> list[tuple[str, str]]:
    """(table.column, value as text) for every non-NULL value in the database, JSON included."""
    db.rollback()  # a fresh snapshot: what the bot committed
    found = []
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)).mappings():
            for column, value in row.items():
                if value is None:
                    continue
                shown = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list)) \
                    else (value.decode("latin-1") if isinstance(value, bytes) else str(value))
                found.append((f"{table.name}.{column}", shown))
    return found


def leaks(db) -> list[str]:
    return [f"{where}: {form!r}" for where, shown in every_value(db) for form in FORMS if form in shown]


def test_erasure_leaves_no_name_phone_or_display_name_in_any_table(chat, db, emulator, services):
    with time_machine.travel(NOW, tick=True):
        coordinator = make_coordinator(chat, db)
        person = register_person(chat)
        register_org(person, "กลุ่มส่งแล้ว")  # the card is pushed at once and sent
        emulator.fail_next(PUSH, 500, times=1)
        register_org(person, "กลุ่มรอส่ง")  # LINE busy: the card waits for a retry
        emulator.fail_next(PUSH, 400, times=1)
        register_org(person, "กลุ่มส่งไม่ได้")  # refused: failed for good, kept for `outbox retry`
        # A push sent before bodies were cleared on sending (or by an older version).
        db.add(OutboxMessage(kind="legacy", recipients=[COORD], status=OutboxStatus.SENT, sent_at=utcnow(),
                             next_attempt_at=utcnow(), created_at=utcnow(),
                             messages=[{"type": "text", "text": f"ผู้ลงทะเบียน {NAME} โทร 089-123-4567"}]))
        db.commit()
        # Someone else typed the person's phone as their organization's contact, not saved yet.
        other = chat.user(OTHER, "อีกคน")
        other.follow()
        other.tap("ยินยอม")
        other.say("สมหญิง ทดลอง")
        other.say("081-111-2222")
        other.say("เชียงใหม่")
        other.tap("บันทึก")
        register_org(other, "กลุ่มของอีกคน", phone=PHONE, save=False)

        # The coordinator really got the card with the name and phone (this is what must not stay).
        card = json.dumps(coordinator.all_messages(), ensure_ascii=False)
        assert NAME in card and "089-123-4567" in card
        db.rollback()
        by_org = {o.name: o for o in db.scalars(select(Organization))}
        statuses = {r.dedupe_key.split(":")[1]: r.status for r in db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "org.certification_request"))}
        assert statuses == {str(by_org["กลุ่มส่งแล้ว"].id): OutboxStatus.SENT,
                            str(by_org["กลุ่มรอส่ง"].id): OutboxStatus.PENDING,
                            str(by_org["กลุ่มส่งไม่ได้"].id): OutboxStatus.FAILED}
        # The person reports, quoting their own name and phone.
        by_org["กลุ่มส่งแล้ว"].status = OrgStatus.CERTIFIED
        db.add(ActivityReport(organization=by_org["กลุ่มส่งแล้ว"], author_id=by_org["กลุ่มส่งแล้ว"].registered_by_id,
                              activity_type=ActivityType.MEETING, activity_date=NOW.date(), participants=12,
                              description=f"ประชุมประจำเดือน ติดต่อ {NAME} 089-123-4567"))
        db.commit()
        before = leaks(db)
        assert any(w.startswith("outbox_messages.messages") for w in before)
        assert any(w.startswith("conversation_states.") for w in before)

        person.say("ลบข้อมูลของฉัน")
        person.tap("ยืนยันลบ")
        assert "ลบข้อมูลส่วนตัว" in person.last_text()

    assert leaks(db) == []
    # What stays stays usable: the organizations, the queued card (still certifiable), the report.
    pending = db.scalar(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))
    body = json.dumps(pending.messages, ensure_ascii=False)
    assert "กลุ่มรอส่ง" in body and REDACTED in body and "org.approve" in body
    assert len(db.scalars(select(Organization)).all()) == 3
    assert "ประชุมประจำเดือน" in db.scalar(select(ActivityReport.description))
    received = len(coordinator.all_messages())
    services.sender.deliver(ids=[pending.id])  # the worker sends the redacted card as it is
    assert len(coordinator.all_messages()) == received + 1
    assert NAME not in json.dumps(coordinator.all_messages()[-1], ensure_ascii=False)


def test_sent_pushes_keep_no_body(chat, db):
    make_coordinator(chat, db)
    person = register_person(chat)
    register_org(person, "กลุ่มส่งแล้ว")
    db.rollback()
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "org.certification_request"))
    assert row.status is OutboxStatus.SENT and row.messages == []


def test_erasure_time_is_the_events_not_the_wall_clock(chat, db):
    register_person(chat)
    db.rollback()
    member = db.scalar(select(Member).where(Member.line_user_id == PERSON))
    event_time = datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc)
    erase_member(db, member, event_time)
    db.commit()
    db.expire_all()
    assert db.scalar(select(Member.erased_at).where(Member.line_user_id == PERSON)) == event_time
    assert db.scalar(select(ConversationState)) is None


def test_needles_cover_phone_spellings_and_short_values_only_whole():
    member = Member(line_user_id=PERSON, full_name=NAME, display_name="Jo", phone=PHONE)
    needles = needles_of(member)
    assert set(FORMS) - {DISPLAY} <= set(needles.parts)
    assert redact_value({"a": [f"โทร {PHONE[:3]}-{PHONE[3:6]}-{PHONE[6:]}", 3]}, needles) == {"a": [f"โทร {REDACTED}", 3]}
    # Two letters would mangle unrelated text ("Join the meeting"): replaced only as a whole value.
    assert redact_value(["Join the meeting", "Jo"], needles) == ["Join the meeting", REDACTED]


def test_a_short_name_on_a_queued_card_is_redacted_too(chat, db, emulator):
    make_coordinator(chat, db)
    person = chat.user(PERSON, "Jo")
    person.follow()
    person.tap("ยินยอม")
    person.say("แดง")  # a nickname typed as the name: three characters
    person.say(PHONE)
    person.say("เชียงใหม่")
    person.tap("บันทึก")
    emulator.fail_next(PUSH, 500, times=1)
    register_org(person, "กลุ่มแดงเดือด")
    db.rollback()
    assert "แดง" in [v for _w, v in every_value(db) if _w == "outbox_messages.messages"][-1]
    person.say("ลบข้อมูลของฉัน")
    person.tap("ยืนยันลบ")
    db.rollback()
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))
    body = json.dumps(row.messages, ensure_ascii=False)
    assert '"แดง"' not in body and "กลุ่มแดงเดือด" in body  # the name line went, the org's name stayed


def test_consent_and_erase_cards_say_what_is_kept_and_what_goes(chat):
    person = chat.user(PERSON, DISPLAY)
    person.follow()
    assert person.sees("ชื่อ-นามสกุล", "ชื่อไลน์", "เบอร์โทร", "จังหวัด", "รายงานกิจกรรม", "รูปภาพ", "ตำแหน่ง")
    person.tap("ยินยอม")
    person.say(NAME)
    person.say(PHONE)
    person.say("เชียงใหม่")
    person.tap("บันทึก")
    person.tap("ภาษา / Language")
    person.tap("English")
    person.say("delete my data")
    assert person.sees("LINE display name", "province", "messages not yet sent", "reports, photos and locations")


def test_a_display_name_that_is_a_place_or_an_issue_word_renames_nothing(chat, db):
    """LINE display names are often common words: they are redacted only where a whole text equals them."""
    from bot.models import Province, StrategicIssue

    provinces = sorted(db.scalars(select(Province.name_th)))
    issues = sorted(db.scalars(select(StrategicIssue.name_th)))
    register_person(chat, display="เชียงใหม่")
    db.rollback()
    member = db.scalar(select(Member).where(Member.line_user_id == PERSON))
    member.display_name = "ชุมชน"  # as a second name a person might go by
    db.commit()
    member = db.scalar(select(Member).where(Member.line_user_id == PERSON))
    erase_member(db, member, datetime(2026, 11, 18, 3, 0, tzinfo=timezone.utc))
    db.commit()
    db.expire_all()
    assert sorted(db.scalars(select(Province.name_th))) == provinces
    assert sorted(db.scalars(select(StrategicIssue.name_th))) == issues
