"""Group digests: the figures against a known fixture, empty days, LINE's size limits, "สรุป", jobs."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from bot import digests
from bot.cards.digests import render
from bot.i18n import use_locale
from bot.assembly import new_token
from bot.schedule import build_registry
from bot.models import (
    ActivityReport,
    ActivityType,
    AgendaItem,
    AssemblySession,
    Ballot,
    BoundGroup,
    ItemStatus,
    Organization,
    OrgStatus,
    OutboxMessage,
    Province,
    ScopeKind,
    StrategicIssue,
)

from .chat import texts_in
from .helpers import person

# Wednesday 25 Nov 2026, 18:00 in Bangkok: the daily digest's fire time.
NOW = datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 25)
EARLIER_TODAY = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
YESTERDAY = datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc)
NORTH_GROUP = "C" + "1" * 32
BANGKOK_GROUP = "C" + "2" * 32
NATIONAL_GROUP = "C" + "3" * 32
LEADER = "U" + "d" * 32


def province(db, code: str) -> Province:
    return db.scalar(select(Province).where(Province.code == code))


def issue(db, code: str) -> StrategicIssue:
    return db.scalar(select(StrategicIssue).where(StrategicIssue.code == code))


def org(db, name: str, code: str, *, status=OrgStatus.CERTIFIED, created=datetime(2026, 10, 1, tzinfo=timezone.utc)):
    row = Organization(name=name, org_type="community", province=province(db, code), member_count=30,
                       status=status, created_at=created, updated_at=created)
    db.add(row)
    db.flush()
    return row


def report(db, organization, author, *, participants=10, budget=None, issue_=None, created=EARLIER_TODAY,
           day=TODAY, withdrawn=False):
    db.add(ActivityReport(organization_id=organization.id, author_id=author.id, activity_type=ActivityType.MEETING,
                          activity_date=day, participants=participants, description="ประชุม", budget=budget,
                          issue_id=issue_.id if issue_ else None, created_at=created, updated_at=created,
                          withdrawn_at=created if withdrawn else None))


def bind(db, group_id: str, scope: str, *, locale="th") -> BoundGroup:
    kind, _, code = scope.partition(":")
    row = BoundGroup(line_group_id=group_id, name="กลุ่ม", locale=locale, scope_kind=ScopeKind(kind),
                     scope_code=code, bound_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def fixture(db):
    """Known data around 25 Nov 2026 in the north (50 เชียงใหม่, 57 เชียงราย) and ขอนแก่น (40)."""
    leader = person(db, LEADER)
    leader.registered_at = EARLIER_TODAY
    yesterday_member = person(db, "U" + "e" * 32)
    yesterday_member.registered_at = YESTERDAY
    outside = person(db, "U" + "f" * 32, province="40")
    outside.registered_at = EARLIER_TODAY
    a = org(db, "วิสาหกิจชุมชนบ้านแม่กำปอง", "50")
    org(db, "สภาองค์กรชุมชนตำบลสันทราย", "50", status=OrgStatus.PENDING,
        created=datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc))
    org(db, "กองทุนสวัสดิการชุมชนหนองหอย", "50", status=OrgStatus.PENDING, created=EARLIER_TODAY)
    d = org(db, "กลุ่มออมทรัพย์บ้านป่าแดด", "57")
    k = org(db, "ชุมชนบ้านมั่นคงขอนแก่น", "40")
    welfare = issue(db, "welfare")
    report(db, a, leader, participants=10, budget=Decimal("1000"), issue_=welfare)
    report(db, a, leader, participants=20, budget=Decimal("500.50"), issue_=welfare)
    report(db, d, leader, participants=5)
    report(db, a, leader, participants=99, withdrawn=True)  # withdrawn: not counted
    report(db, a, leader, participants=3, created=YESTERDAY, day=TODAY - timedelta(days=1))  # yesterday's
    report(db, k, leader, participants=7)  # outside the north
    s = AssemblySession(name="สมัชชา", held_on=TODAY, place="กรุงเทพฯ")
    item = AgendaItem(session=s, title="รับรองแผนงานปี 2570", description="", token=new_token(),
                      opens_at=NOW - timedelta(days=1), closes_at=NOW + timedelta(days=1),
                      status=ItemStatus.OPEN, eligible_count=4)
    db.add(item)
    db.flush()
    db.add(Ballot(item_id=item.id, member_id=leader.id, voted_at=EARLIER_TODAY, changes=0))
    db.add(Ballot(item_id=item.id, member_id=yesterday_member.id, changes=0))
    bind(db, NORTH_GROUP, "region:north")
    bind(db, BANGKOK_GROUP, "province:10")
    db.commit()
    return db


def test_digest_figures_for_a_region(fixture, services):
    tz = services.settings.timezone
    d = digests.compute(fixture, ScopeKind.REGION, "north", digests.daily_period(TODAY), tz=tz, locale="th", now=NOW)
    assert d.scope == "ภาคเหนือ"
    assert (d.new_members, d.new_orgs, d.pending) == (1, 1, 2)
    assert d.pending_oldest == [("สภาองค์กรชุมชนตำบลสันทราย", 5), ("กองทุนสวัสดิการชุมชนหนองหอย", 0)]
    assert [(p.name, p.reports, p.participants, p.baht) for p in d.provinces] == [
        ("เชียงใหม่", 2, 30, Decimal("1500.50")), ("เชียงราย", 1, 5, Decimal("0"))]
    assert (d.reports, d.participants, d.baht) == (3, 35, Decimal("1500.50"))
    assert d.issues == [(issue(fixture, "welfare").short_th, 2, 30), ("ไม่ระบุประเด็น", 1, 5)]
    assert d.top_orgs == [("วิสาหกิจชุมชนบ้านแม่กำปอง", 2), ("กลุ่มออมทรัพย์บ้านป่าแดด", 1)]
    assert d.scope_province_count == 17 and len(d.silent_provinces) == 15
    assert "เชียงใหม่" not in d.silent_provinces and "ลำพูน" in d.silent_provinces
    assert d.open_votes == [("รับรองแผนงานปี 2570", 1, 4)]
    assert not d.empty

    weekly = digests.compute(fixture, ScopeKind.PROVINCE, "50", digests.weekly_period(TODAY), tz=tz,
                             locale="en", now=NOW)
    assert weekly.period == (date(2026, 11, 16), date(2026, 11, 23))
    assert weekly.scope == "Chiang Mai" and weekly.reports == 0 and weekly.new_orgs == 1 and not weekly.empty
    before = digests.compute(fixture, ScopeKind.PROVINCE, "50", digests.weekly_period(TODAY - timedelta(days=7)),
                             tz=tz, locale="th", now=NOW)
    assert before.empty  # standing figures (pending, open votes) alone do not make news


def test_daily_job_sends_each_bound_group_its_digest_and_nothing_when_nothing_happened(fixture, services, emulator):
    bind(fixture, NATIONAL_GROUP, "national", locale="en")
    fixture.commit()
    with time_machine.travel(NOW, tick=False):
        assert digests.daily_digests(services, NOW) == 2  # north and national; Bangkok had nothing
        assert digests.daily_digests(services, NOW) == 0  # a re-run queues nothing twice
        while services.sender.deliver(limit=50, now=NOW).claimed:
            pass
    north = emulator.messages_for(NORTH_GROUP)
    assert len(north) == 1 and north[0]["type"] == "flex"
    text = "\n".join(texts_in(north[0]))
    for fragment in ("สรุปวันนี้ · ภาคเหนือ", "เชียงใหม่", "1,500.5", "สภาองค์กรชุมชนตำบลสันทราย", "5 วัน",
                     "รับรองแผนงานปี 2570", "1/4", "15 จาก 17 จังหวัด", "วิสาหกิจชุมชนบ้านแม่กำปอง"):
        assert fragment in text, fragment
    assert "ขอนแก่น" not in text
    assert emulator.messages_for(BANGKOK_GROUP) == []
    english = "\n".join(texts_in(emulator.messages_for(NATIONAL_GROUP)[0]))
    assert "Today · Nationwide" in english and "Khon Kaen" in english
    # No person's name, phone or LINE id in any group message.
    for gid in (NORTH_GROUP, NATIONAL_GROUP):
        blob = json.dumps(emulator.messages_for(gid), ensure_ascii=False)
        for personal in ("สมชาย", "0812345678", LEADER):
            assert personal not in blob


def test_weekly_job_counts_last_week(fixture, services, emulator):
    monday = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)  # Monday 08:00 Bangkok
    with time_machine.travel(monday, tick=False):
        assert digests.weekly_digests(services, monday) == 1  # the north; Bangkok had nothing
        while services.sender.deliver(limit=50, now=monday).claimed:
            pass
    text = "\n".join(texts_in(emulator.messages_for(NORTH_GROUP)[0]))
    assert "สรุปสัปดาห์ · ภาคเหนือ" in text and "23 พ.ย. 2569 – 29 พ.ย. 2569" in text


def test_summary_command_replies_for_free(fixture, chat, emulator):
    group = chat.group(NORTH_GROUP)
    with time_machine.travel(NOW, tick=True):
        group.say(LEADER, "สรุป")
    reply = group.replies()
    assert len(reply) == 1 and reply[0]["_via"] == "reply" and reply[0]["type"] == "flex"
    assert "เชียงราย" in "\n".join(texts_in(reply[0]))
    bangkok = chat.group(BANGKOK_GROUP)
    with time_machine.travel(NOW, tick=True):
        bangkok.say(LEADER, "summary")
    assert "ยังไม่มีความเคลื่อนไหว" in bangkok.last_text()
    assert fixture.scalar(select(OutboxMessage.id)) is None  # replies cost nothing: no push queued


def test_a_national_digest_fits_line_limits(db, services, emulator):
    """77 provinces reporting, long Thai organization names, five long open votes: still one message."""
    leader = person(db, LEADER)
    provinces = db.scalars(select(Province)).all()
    assert len(provinces) == 77
    long_name = "สภาองค์กรชุมชนตำบลและเครือข่ายพัฒนาคุณภาพชีวิตผู้สูงอายุและคนพิการเพื่อความมั่นคงของชุมชน" * 2
    issues = db.scalars(select(StrategicIssue)).all()
    for n, prov in enumerate(provinces):
        for i in range(3):
            o = org(db, f"{long_name[:190]} {n}-{i}", prov.code, status=OrgStatus.PENDING if i == 0 else OrgStatus.CERTIFIED,
                    created=EARLIER_TODAY)
            report(db, o, leader, participants=10_000 + n, budget=Decimal("1234567.89"), issue_=issues[i % len(issues)])
    s = AssemblySession(name="สมัชชา", held_on=TODAY, place="กรุงเทพฯ")
    for n in range(5):
        db.add(AgendaItem(session=s, title=(f"วาระที่ {n} " + "การรับรองแผนยุทธศาสตร์ขบวนองค์กรชุมชน" * 6)[:200],
                          description="", token=new_token(), opens_at=NOW - timedelta(days=1),
                          closes_at=NOW + timedelta(days=1), status=ItemStatus.OPEN, eligible_count=315))
    bind(db, NATIONAL_GROUP, "national")
    db.commit()
    d = digests.compute(db, ScopeKind.NATIONAL, "", digests.daily_period(TODAY), tz=services.settings.timezone,
                        locale="th", now=NOW)
    assert len(d.provinces) == 77 and d.reports == 231
    message = render(d, weekly=False, locale="th").to_dict()
    size = len(json.dumps(message["contents"], ensure_ascii=False, separators=(",", ":")).encode())
    assert size <= 50 * 1024 and len(message["contents"]["contents"]) <= 12
    for bubble in message["contents"]["contents"]:
        assert len(json.dumps(bubble, ensure_ascii=False, separators=(",", ":")).encode()) <= 30 * 1024
    with time_machine.travel(NOW, tick=False):
        assert digests.daily_digests(services, NOW) == 1
        while services.sender.deliver(limit=50, now=NOW).claimed:
            pass
    sent = emulator.messages_for(NATIONAL_GROUP)
    assert len(sent) == 1  # the emulator validated it (the app fixture fails the test on any violation)
    text = "\n".join(texts_in(sent[0]))
    assert "231" in text  # the total row is always kept, even when provinces are cut


def test_every_row_is_an_aggregate_not_a_loop(fixture, services):
    """The SQL: each figure is one statement with GROUP BY or COUNT, whatever the number of reports;
    a national digest reads the daily rollups, and the provinces' activity from the day totals."""
    from sqlalchemy import event

    statements: list[str] = []
    engine = fixture.get_bind()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        digests.compute(fixture, ScopeKind.NATIONAL, "", digests.daily_period(TODAY),
                        tz=services.settings.timezone, locale="th", now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 14
    assert sum("GROUP BY" in s for s in statements) >= 3
    assert sum("report_daily_rollups" in s for s in statements) == 2  # by province, by issue
    assert sum("report_daily_org_counts" in s for s in statements) == 1  # the top organizations
    assert sum("activity_reports" in s for s in statements) == 0  # never the million reports
    assert 1 <= sum("activity_day_totals" in s for s in statements) <= 2  # this month; silent ones' last


def test_jobs_are_registered():
    registry = build_registry()
    assert registry.get("group_daily_digest").trigger == {"hour": 18, "minute": 0}
    assert registry.get("group_weekly_digest").trigger == {"day_of_week": "mon", "hour": 8, "minute": 0}
    assert registry.get("group_news") is not None


def test_certification_requests_and_results_reach_groups_bound_for_them(fixture, services, emulator):
    north = fixture.scalar(select(BoundGroup).where(BoundGroup.line_group_id == NORTH_GROUP))
    north.certification_requests = True
    north.assembly_results = True
    item = fixture.scalar(select(AgendaItem))
    item.status, item.closed_at = ItemStatus.CLOSED, NOW
    fixture.commit()
    with time_machine.travel(NOW, tick=False):
        first = digests._group_news(services, NOW)
        assert first == 2  # one new pending organization (today's) + one result
        assert digests._group_news(services, NOW) == 0
        while services.sender.deliver(limit=50, now=NOW).claimed:
            pass
    text = "\n".join(t for m in emulator.messages_for(NORTH_GROUP) for t in texts_in(m))
    assert "กองทุนสวัสดิการชุมชนหนองหอย" in text and "รับรองแผนงานปี 2570" in text
    assert emulator.messages_for(BANGKOK_GROUP) == []


def test_render_serializes_each_bubble_once(monkeypatch):
    """Fitting the carousel measures every bubble's JSON once (the costly part of rendering), not
    once per check: the fixed bubbles before the loop, the province pages per try, none again."""
    from bot import ui
    from bot.i18n import use_locale

    d = digests.Digest("ทั่วประเทศ", digests.daily_period(TODAY), new_members=3, new_orgs=12, pending=4000,
                       pending_oldest=[(f"สภาองค์กรชุมชนตำบล {n}", 390) for n in range(5)],
                       provinces=[digests.ProvinceLine(f"จังหวัด{n}", 1300 + n, 130_000 + n, Decimal(32_000_000 + n))
                                  for n in range(77)],
                       issues=[(f"ประเด็น{n}", 10_000, 1_000_000) for n in range(12)],
                       top_orgs=[(f"สภาองค์กรชุมชนตำบล {n}", 9) for n in range(5)], scope_province_count=77)
    measured: list[object] = []
    real = ui.json_size
    monkeypatch.setattr(ui, "json_size", lambda node: measured.append(node) or real(node))
    with use_locale("th"):
        message = render(d, weekly=False, locale="th")
    bubbles = message.contents.contents
    assert len(bubbles) == 6  # it fits at the first try: every province shown
    assert sum(1 for node in measured if isinstance(node, dict) and node.get("type") == "bubble") == len(bubbles)
    assert real(message.contents) <= ui.CAROUSEL_BYTES


def _silent_text(message) -> str:
    """The texts of the digest's last bubble (the silent provinces, when there are any)."""
    return "\n".join(texts_in(message.to_dict()["contents"]["contents"][-1]))


def test_a_national_digest_counts_silent_provinces_and_names_only_the_longest_silent(db, services):
    leader = person(db, LEADER)
    # Latest reports: this month in เชียงใหม่ (not silent); before this month in six provinces.
    latest = {"50": TODAY, "55": date(2026, 7, 1), "52": date(2026, 8, 1), "53": date(2026, 9, 1),
              "54": date(2026, 10, 1), "51": date(2026, 10, 20), "56": date(2026, 10, 31)}
    for code, day in latest.items():
        o = org(db, f"กลุ่ม {code}", code)
        report(db, o, leader, day=day, created=datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc))
    report(db, o, leader, day=date(2026, 11, 2), withdrawn=True)  # withdrawn: 56 is still silent
    db.commit()
    d = digests.compute(db, ScopeKind.NATIONAL, "", digests.daily_period(TODAY), tz=services.settings.timezone,
                        locale="th", now=NOW)
    assert len(d.silent_provinces) == 76 and d.scope_province_count == 77
    name = {code: province(db, code).short_th for code in latest}
    assert d.longest_silent[70:] == [(name["55"], 147), (name["52"], 116), (name["53"], 85), (name["54"], 55),
                                     (name["51"], 36), (name["56"], 25)]
    assert all(days is None for _name, days in d.longest_silent[:70])

    with use_locale("th"):
        text = _silent_text(render(d, weekly=False, locale="th"))
    assert "76 จาก 77 จังหวัดยังไม่มีรายงานเดือนนี้" in text
    assert "ในจำนวนนี้ 70 จังหวัดยังไม่เคยมีรายงานเลย" in text
    assert f"{name['55']}\nไม่มีรายงานมา 147 วัน" in text and f"{name['51']}\nไม่มีรายงานมา 36 วัน" in text
    assert name["56"] not in text  # the sixth longest is not named
    assert len([line for line in text.splitlines() if line in d.silent_provinces]) == 5  # not a block of 76
    with use_locale("en"):
        english = _silent_text(render(digests.compute(db, ScopeKind.NATIONAL, "", digests.daily_period(TODAY),
                                                      tz=services.settings.timezone, locale="en", now=NOW),
                                      weekly=False, locale="en"))
    assert "70 of them have never reported" in english and "no report for 147 days" in english


def test_a_small_scope_names_its_silent_provinces(fixture, services):
    """A province group (here ล้านนาตะวันออก) has few provinces: the silent ones are simply named."""
    d = digests.compute(fixture, ScopeKind.GROUP, "lanna_east", digests.daily_period(TODAY),
                        tz=services.settings.timezone, locale="th", now=NOW)
    assert 0 < len(d.silent_provinces) <= 10
    with use_locale("th"):
        text = _silent_text(render(d, weekly=False, locale="th"))
    assert ", ".join(d.silent_provinces) in text and "เงียบนานที่สุด" not in text


def test_a_pending_organization_waiting_since_today_says_today():
    d = digests.Digest("ภาคเหนือ", digests.daily_period(TODAY), new_orgs=2, pending=2,
                       pending_oldest=[("สภาองค์กรชุมชนตำบลสันทราย", 5), ("กองทุนสวัสดิการชุมชนหนองหอย", 0)])
    with use_locale("th"):
        text = "\n".join(texts_in(render(d, weekly=False, locale="th").to_dict()))
    assert "สภาองค์กรชุมชนตำบลสันทราย\n5 วัน" in text and "กองทุนสวัสดิการชุมชนหนองหอย\nวันนี้" in text
    assert "0 วัน" not in text
