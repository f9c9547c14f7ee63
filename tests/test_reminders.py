"""Monthly reporting reminders: who gets one, exactly once, in their language; and pausing them."""
from __future__ import annotations

from datetime import date, datetime, timezone

import time_machine
from sqlalchemy import func, select

from bot.models import (
    ActivityReport,
    ActivityType,
    Member,
    MemberPreference,
    Organization,
    OrgStatus,
    OutboxMessage,
    Priority,
    Province,
)
from bot.jobs import JobRegistry
from bot.reminders import is_nudge_day, month_bounds, monthly_reminder, register_jobs, second_nudge

from .helpers import register

# 25 Nov 2026 09:00 and 28 Nov 2026 09:00 in Bangkok.
REMINDER_AT = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
NUDGE_AT = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)


def uid(n: int) -> str:
    return f"U{n:032x}"


class World:
    """Leaders and organizations arranged directly in the database (the flows are tested elsewhere)."""

    def __init__(self, db) -> None:
        self.db = db
        self.province = db.scalar(select(Province).where(Province.name_th == "เชียงใหม่"))
        self.count = 0

    def leader(self, *, locale="th", active=True, erased=False, paused=False, registered=True) -> Member:
        self.count += 1
        member = Member(line_user_id=uid(self.count), full_name=f"แกนนำ {self.count}", locale=locale,
                        active=active, registered_at=REMINDER_AT if registered else None,
                        erased_at=REMINDER_AT if erased else None)
        self.db.add(member)
        self.db.flush()
        if paused:
            self.db.add(MemberPreference(member_id=member.id, reminders_paused_at=REMINDER_AT))
        return member

    def org(self, leader: Member, *, status=OrgStatus.CERTIFIED, as_contact=False) -> Organization:
        org = Organization(name=f"องค์กรของ {leader.full_name}", org_type="community", province=self.province,
                           member_count=30, status=status, registered_by=None if as_contact else leader,
                           contact=leader)
        self.db.add(org)
        self.db.flush()
        return org

    def report(self, org: Organization, author: Member, day: date, *, withdrawn=False) -> None:
        self.db.add(ActivityReport(organization_id=org.id, author_id=author.id, activity_type=ActivityType.MEETING,
                                   activity_date=day, participants=10, description="ประชุม",
                                   withdrawn_at=REMINDER_AT if withdrawn else None))
        self.db.flush()


def deliver_all(services, at: datetime = REMINDER_AT) -> None:
    """Drain the outbox as the worker would at `at` (reminders wait out quiet hours, so not "now")."""
    while services.sender.deliver(limit=50, now=at).claimed:
        pass


def test_reminder_goes_once_to_each_silent_leader_in_their_language(services, db, emulator):
    w = World(db)
    silent = w.leader()
    w.org(silent)
    reported = w.leader()
    w.report(w.org(reported), reported, date(2026, 11, 3))
    pending_only = w.leader()
    w.org(pending_only, status=OrgStatus.PENDING)
    paused = w.leader(paused=True)
    w.org(paused)
    inactive = w.leader(active=False)
    w.org(inactive)
    erased = w.leader(erased=True)
    w.org(erased)
    several = w.leader()
    w.org(several)
    w.org(several)
    english = w.leader(locale="en")
    w.org(english)
    last_month_only = w.leader()
    w.report(w.org(last_month_only), last_month_only, date(2026, 10, 28))
    withdrawn_only = w.leader()
    w.report(w.org(withdrawn_only), withdrawn_only, date(2026, 11, 10), withdrawn=True)
    contact = w.leader()
    w.org(contact, as_contact=True)
    one_of_two = w.leader()
    w.report(w.org(one_of_two), one_of_two, date(2026, 11, 1))
    w.org(one_of_two)
    db.commit()

    with time_machine.travel(REMINDER_AT, tick=False):
        queued = monthly_reminder(services, REMINDER_AT)
    reminded = {silent, several, english, last_month_only, withdrawn_only, contact, one_of_two}
    assert queued == len(reminded)
    rows = db.scalars(select(OutboxMessage)).all()
    assert {r.priority for r in rows} == {Priority.LOW}
    # One multicast campaign per language, not one push per leader.
    assert {r.dedupe_key for r in rows} == {"reminder:2026-11:th#1", "reminder:2026-11:en#1"}
    assert sorted(len(r.recipients) for r in rows) == [1, len(reminded) - 1]

    deliver_all(services)
    for member in w.db.scalars(select(Member)):
        messages = emulator.messages_for(member.line_user_id)
        assert len(messages) == (1 if member in reminded else 0), member.full_name
    [thai] = emulator.messages_for(silent.line_user_id)
    assert "ยังไม่มีรายงานกิจกรรม" in thai["text"]
    assert [i["action"]["label"] for i in thai["quickReply"]["items"]] == ["รายงานกิจกรรม", "หยุดเตือน"]
    [english_message] = emulator.messages_for(english.line_user_id)
    assert "no activity report yet" in english_message["text"]

    # Running the job again (a retry, a second scheduler) queues nothing new.
    with time_machine.travel(REMINDER_AT, tick=False):
        assert monthly_reminder(services, REMINDER_AT) == 0
    db.rollback()
    assert db.scalar(select(func.count(OutboxMessage.id))) == 2


def test_second_nudge_only_to_the_still_silent(services, db, emulator):
    w = World(db)
    stays_silent = w.leader()
    w.org(stays_silent)
    reports_after_reminder = w.leader()
    org = w.org(reports_after_reminder)
    paused_later = w.leader()
    w.org(paused_later)
    db.commit()
    with time_machine.travel(REMINDER_AT, tick=False):
        assert monthly_reminder(services, REMINDER_AT) == 3

    w.report(org, reports_after_reminder, date(2026, 11, 26))
    db.add(MemberPreference(member_id=paused_later.id, reminders_paused_at=REMINDER_AT))
    db.commit()
    with time_machine.travel(NUDGE_AT, tick=False):
        assert second_nudge(services, NUDGE_AT) == 1
        assert second_nudge(services, NUDGE_AT) == 0  # re-run: nothing new
    deliver_all(services, NUDGE_AT)
    assert len(emulator.messages_for(stays_silent.line_user_id)) == 2
    assert "สิ้นเดือน" in emulator.messages_for(stays_silent.line_user_id)[-1]["text"]
    assert len(emulator.messages_for(reports_after_reminder.line_user_id)) == 1
    assert len(emulator.messages_for(paused_later.line_user_id)) == 1
    db.rollback()
    keys = set(db.scalars(select(OutboxMessage.dedupe_key)))
    assert "nudge:2026-11:th#1" in keys


def test_a_large_audience_is_multicast_in_batches_of_500(services, db, emulator):
    emulator.quota_limit = None  # this test is about batching, not the monthly quota
    w = World(db)
    for _ in range(1001):
        w.org(w.leader())
    db.commit()
    with time_machine.travel(REMINDER_AT, tick=False):
        assert monthly_reminder(services, REMINDER_AT) == 1001
    deliver_all(services)
    multicasts = [r for r in emulator.requests if r.path == "/v2/bot/message/multicast"]
    assert sorted(len(r.json["to"]) for r in multicasts) == [500, 500]
    assert len([r for r in emulator.requests if r.path == "/v2/bot/message/push"]) == 1  # the 1,001st


def test_next_month_reminds_again(services, db, emulator):
    w = World(db)
    leader = w.leader()
    w.org(leader)
    db.commit()
    with time_machine.travel(REMINDER_AT, tick=False):
        assert monthly_reminder(services, REMINDER_AT) == 1
    with time_machine.travel(datetime(2026, 12, 25, 2, 0, tzinfo=timezone.utc), tick=False):
        assert monthly_reminder(services, datetime(2026, 12, 25, 2, 0, tzinfo=timezone.utc)) == 1
    db.rollback()
    assert set(db.scalars(select(OutboxMessage.dedupe_key))) == {"reminder:2026-11:th#1", "reminder:2026-12:th#1"}


def test_leader_stops_and_resumes_reminders_by_chat(chat, services, db, emulator):
    leader = register(chat)
    member = db.scalar(select(Member).where(Member.line_user_id == leader.user_id))
    World(db).org(member)
    db.commit()
    with time_machine.travel(REMINDER_AT, tick=False):
        assert monthly_reminder(services, REMINDER_AT) == 1
    deliver_all(services)
    leader.seen = len(leader.all_messages()) - 1  # read the reminder as the latest message
    assert "หยุดเตือน" in leader.chips()
    leader.tap("หยุดเตือน")
    assert "หยุดเตือน" in leader.last_text() and "เตือนอีกครั้ง" in leader.chips()
    with time_machine.travel(datetime(2026, 12, 25, 2, 0, tzinfo=timezone.utc), tick=False):
        assert monthly_reminder(services, datetime(2026, 12, 25, 2, 0, tzinfo=timezone.utc)) == 0
    leader.say("เตือนอีกครั้ง")
    assert "เปิดการเตือน" in leader.last_text()
    with time_machine.travel(datetime(2026, 12, 25, 2, 0, tzinfo=timezone.utc), tick=False):
        assert monthly_reminder(services, datetime(2026, 12, 25, 2, 0, tzinfo=timezone.utc)) == 1


def test_nudge_day_and_month_bounds():
    assert month_bounds(date(2026, 11, 25)) == (date(2026, 11, 1), date(2026, 12, 1))
    assert month_bounds(date(2026, 12, 31)) == (date(2026, 12, 1), date(2027, 1, 1))
    assert [d for d in range(20, 31) if is_nudge_day(date(2026, 11, d))] == [28]
    assert [d for d in range(20, 29) if is_nudge_day(date(2027, 2, d))] == [26]
    assert [d for d in range(20, 32) if is_nudge_day(date(2026, 12, d))] == [29]


def test_register_jobs_schedules_both_and_the_nudge_waits_for_its_day(services, db):
    registry = JobRegistry()
    register_jobs(registry)
    reminder, nudge = registry.get("report_reminder"), registry.get("report_nudge")
    assert reminder.func is monthly_reminder
    assert reminder.trigger == {"day": 25, "hour": 9, "minute": 0}
    # Cron fields are Bangkok time: the next reminder after 1 Dec is 25 Dec 09:00 +07:00.
    tz = services.settings.timezone
    after = datetime(2026, 12, 1, tzinfo=tz)
    assert reminder.cron(tz).get_next_fire_time(None, after) == datetime(2026, 12, 25, 9, 0, tzinfo=tz)
    w = World(db)
    w.org(w.leader())
    db.commit()
    # The nudge's cron fires on the 26th–29th; only the day with 3 days left actually nudges.
    assert nudge.func(services, datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)) == 0
    assert nudge.func(services, NUDGE_AT) == 1
