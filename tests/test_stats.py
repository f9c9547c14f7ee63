"""bot/stats.py: exact figures on a small fixture around 18 Nov 2026 (frozen_now), by scope."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import String, delete, func, select, type_coerce

from bot import stats
from bot.models import ActivityDayTotal, ActivityReport, BudgetSource, Organization, OrgStatus, Province
from bot.scopes import Scope

from .helpers import org_in, person, report_on

LEADER = "U" + "5" * 32
NORTH = Scope.parse("region:north")
CHIANG_MAI = Scope.parse("province:50")


@pytest.fixture
def data(db, frozen_now):
    """เชียงใหม่ (50) reports this month and earlier; เชียงราย (57) reported in September only;
    ขอนแก่น (40, outside the north) this month. Two organizations wait in เชียงใหม่, one in ขอนแก่น."""
    leader = person(db, LEADER)
    cm = org_in(db, "วิสาหกิจชุมชนบ้านแม่กำปอง", "50")
    cr = org_in(db, "กลุ่มออมทรัพย์บ้านป่าแดด", "57")
    kk = org_in(db, "ชุมชนบ้านมั่นคงขอนแก่น", "40")
    org_in(db, "สภาองค์กรชุมชนตำบลสันทราย", "50", status=OrgStatus.PENDING,
           created=datetime(2026, 11, 8, 3, 0, tzinfo=timezone.utc))  # 10 days before 18 Nov
    org_in(db, "กองทุนสวัสดิการชุมชนหนองหอย", "50", status=OrgStatus.PENDING,
           created=datetime(2026, 10, 19, 3, 0, tzinfo=timezone.utc))  # 30 days
    org_in(db, "กลุ่มขอนแก่นรอ", "40", status=OrgStatus.PENDING,
           created=datetime(2026, 11, 17, 3, 0, tzinfo=timezone.utc))  # 1 day
    report_on(db, cm, leader, date(2026, 11, 2), participants=10, budget=Decimal("1000"), source=BudgetSource.CODI)
    report_on(db, cm, leader, date(2026, 11, 18), participants=20, budget=Decimal("500.50"),
              source=BudgetSource.COMMUNITY_FUND)
    report_on(db, cm, leader, date(2026, 11, 10), participants=99, budget=Decimal("9999"), withdrawn=True)
    report_on(db, cm, leader, date(2026, 11, 20), participants=50)  # dated after today: not counted yet
    report_on(db, cm, leader, date(2026, 10, 31), participants=7, budget=Decimal("200"), source=BudgetSource.CODI)
    report_on(db, cr, leader, date(2026, 9, 15), participants=4)
    report_on(db, cr, leader, date(2025, 11, 30), participants=1)  # 12 months back: the first month
    report_on(db, cr, leader, date(2025, 10, 31), participants=1)  # 13 months back: outside the chart
    report_on(db, kk, leader, date(2026, 11, 5), participants=8, budget=Decimal("300"))
    db.commit()
    return db


def test_monthly_activity_counts_live_reports_per_bangkok_month(data, frozen_now):
    points = stats.monthly_activity(data, NORTH, now=frozen_now)
    assert [p.month for p in points][0] == date(2025, 12, 1)
    assert [p.month for p in points][-1] == date(2026, 11, 1)
    assert len(points) == 12
    by_month = {p.month: p for p in points}
    november = by_month[date(2026, 11, 1)]
    assert (november.reports, november.participants) == (2, 30)
    assert november.baht_by_source == {BudgetSource.CODI: Decimal("1000"), BudgetSource.COMMUNITY_FUND: Decimal("500.50")}
    assert november.baht == Decimal("1500.50")
    assert (by_month[date(2026, 10, 1)].reports, by_month[date(2026, 10, 1)].baht) == (1, Decimal("200"))
    assert by_month[date(2026, 9, 1)].reports == 1
    assert sum(p.reports for p in points) == 4  # 2025-11 and 2025-10 fall before the twelve months


def test_monthly_activity_by_scope_and_length(data, frozen_now):
    national = stats.monthly_activity(data, Scope.NATIONAL, now=frozen_now, months=13)
    assert national[0].month == date(2025, 11, 1) and national[0].reports == 1
    november = national[-1]
    assert (november.reports, november.participants) == (3, 38)
    assert november.baht_by_source[None] == Decimal("300")  # an amount without a source still counts
    chiang_mai = stats.monthly_activity(data, CHIANG_MAI, now=frozen_now, months=3)
    assert [(p.month, p.reports) for p in chiang_mai] == [
        (date(2026, 9, 1), 0), (date(2026, 10, 1), 1), (date(2026, 11, 1), 2)]


def test_province_activity_lists_every_province_of_the_scope(data, frozen_now):
    rows = stats.province_activity(data, NORTH, now=frozen_now)
    assert len(rows) == 17  # every northern province, silent or not
    by_code = {r.code: r for r in rows}
    assert (by_code["50"].reports, by_code["50"].last_report) == (2, date(2026, 11, 18))
    assert (by_code["57"].reports, by_code["57"].last_report) == (0, date(2026, 9, 15))
    assert by_code["57"].silent and not by_code["50"].silent
    assert by_code["58"].last_report is None
    assert by_code["50"].name("th") == "เชียงใหม่" and by_code["50"].name("en") == "Chiang Mai"
    assert "40" not in by_code
    assert len(stats.province_activity(data, Scope.NATIONAL, now=frozen_now)) == 77
    assert [(r.code, r.reports) for r in stats.province_activity(data, CHIANG_MAI, now=frozen_now)] == [("50", 2)]


def test_silent_provinces_longest_silent_first(data, frozen_now):
    silent = stats.silent_provinces(data, NORTH, now=frozen_now)
    assert len(silent) == 16
    assert "50" not in {s.code for s in silent}
    assert silent[-1].code == "57"  # the only one that ever reported comes last
    assert all(s.last_report is None for s in silent[:-1])
    assert [s.code for s in silent[:-1]] == sorted(s.code for s in silent[:-1])
    # The same answer from province_activity's rows, without querying again.
    rows = stats.province_activity(data, NORTH, now=frozen_now)
    assert stats.silent_provinces(data, NORTH, now=frozen_now, activities=rows) == silent
    assert stats.silent_provinces(data, CHIANG_MAI, now=frozen_now) == []


def test_certification_waits(data, frozen_now):
    north = stats.certification_waits(data, NORTH, now=frozen_now)
    assert (north.pending, north.median_days, north.longest_days) == (2, 20.0, 30)
    national = stats.certification_waits(data, Scope.NATIONAL, now=frozen_now)
    assert (national.pending, national.median_days, national.longest_days) == (3, 10.0, 30)
    nobody = stats.certification_waits(data, Scope.parse("province:10"), now=frozen_now)
    assert (nobody.pending, nobody.median_days, nobody.longest_days) == (0, None, None)


def test_overview_bundles_the_figures(data, frozen_now):
    view = stats.overview(data, NORTH, now=frozen_now)
    assert len(view.months) == 12 and len(view.provinces) == 17 and len(view.silent) == 16
    assert view.waits.pending == 2


def test_month_start_crosses_years():
    assert stats.month_start(date(2026, 1, 31), 1) == date(2025, 12, 1)
    assert stats.month_start(date(2026, 11, 18), 11) == date(2025, 12, 1)
    assert stats.month_start(date(2026, 11, 18)) == date(2026, 11, 1)


def recount(db) -> dict:
    """The day totals as the reports themselves give them (what the triggers must keep)."""
    rows = db.execute(
        select(Organization.province_id, ActivityReport.activity_date,
               func.coalesce(type_coerce(ActivityReport.budget_source, String), ""), func.count(), func.sum(ActivityReport.participants),
               func.coalesce(func.sum(ActivityReport.budget), 0))
        .join(ActivityReport.organization).where(ActivityReport.withdrawn_at.is_(None))
        .group_by(Organization.province_id, ActivityReport.activity_date, ActivityReport.budget_source))
    return {(pid, day, source): (n, people, stats._baht(baht)) for pid, day, source, n, people, baht in rows}


def totals(db) -> dict:
    return {(t.province_id, t.day, t.budget_source): (t.reports, t.participants, stats._baht(t.baht))
            for t in db.scalars(select(ActivityDayTotal)) if t.reports}


def test_the_day_totals_follow_every_change_to_reports_and_organizations(data, frozen_now):
    assert totals(data) == recount(data) and len(totals(data)) == 8
    report = data.scalar(select(ActivityReport).where(ActivityReport.participants == 20))
    report.participants, report.budget, report.budget_source = 25, Decimal("99.25"), None  # a correction
    data.commit()
    assert totals(data) == recount(data)
    report.withdrawn_at = frozen_now  # a withdrawal
    data.commit()
    assert totals(data) == recount(data)
    assert stats.monthly_activity(data, CHIANG_MAI, now=frozen_now)[-1].reports == 1
    report.withdrawn_at = None
    report.activity_date = date(2026, 11, 1)
    data.commit()
    assert totals(data) == recount(data)
    moved = data.scalar(select(Organization).where(Organization.name == "กลุ่มออมทรัพย์บ้านป่าแดด"))
    moved.province = data.scalar(select(Province).where(Province.code == "10"))  # moved to Bangkok
    data.commit()
    assert totals(data) == recount(data)
    assert stats.province_activity(data, Scope.parse("province:10"), now=frozen_now)[0].last_report == date(2026, 9, 15)
    data.delete(data.scalar(select(Organization).where(Organization.name == "วิสาหกิจชุมชนบ้านแม่กำปอง")))
    data.commit()  # its reports go with it (ON DELETE CASCADE), and out of the totals
    assert totals(data) == recount(data)
    assert stats.province_activity(data, CHIANG_MAI, now=frozen_now)[0].last_report is None
    data.execute(delete(ActivityReport))
    data.commit()
    assert totals(data) == {}
