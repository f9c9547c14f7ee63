"""The movement's figures for a scope: activity per month, per province, and certification waits.

What the console's overview and the weekly digest's chart show, counted in SQL (COUNT/SUM … GROUP BY)
so a national scope over a million reports reads aggregated rows, never the reports. Only live
reports count (not withdrawn), as in the digests; a report belongs to the Bangkok month of its
`activity_date` (the day the activity happened), as the digests' "silent provinces" do.

Domain level: reads the models through `scopes`; renders nothing (bot/charts.py draws these).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from .models import ActivityReport, BudgetSource, Organization, OrgStatus, Province
from .scopes import Scope, in_scope

BANGKOK = ZoneInfo("Asia/Bangkok")


def bangkok_today(now: datetime, tz: ZoneInfo = BANGKOK) -> date:
    return now.astimezone(tz).date()


def month_start(day: date, back: int = 0) -> date:
    """The first day of the month `back` months before the day's month."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


# ---- activity per month ------------------------------------------------------------------------


@dataclass
class MonthPoint:
    month: date  # the first day of the Bangkok month
    reports: int = 0
    participants: int = 0
    # Baht by who paid (None: an amount reported without a source); sources with no baht are absent.
    baht_by_source: dict[BudgetSource | None, Decimal] = field(default_factory=dict)

    @property
    def baht(self) -> Decimal:
        return sum(self.baht_by_source.values(), Decimal(0))


def _live() -> object:
    return ActivityReport.withdrawn_at.is_(None)


def monthly_activity(session: Session, scope: Scope, *, now: datetime, months: int = 12, tz: ZoneInfo = BANGKOK) -> list[MonthPoint]:
    """One point per Bangkok month, oldest first, ending with the current month (so far); months
    with no report are there with zeros. Reports dated after today are not counted."""
    today = bangkok_today(now, tz)
    first = month_start(today, months - 1)
    year, month = extract("year", ActivityReport.activity_date), extract("month", ActivityReport.activity_date)
    query = (select(year, month, ActivityReport.budget_source, func.count(),
                    func.coalesce(func.sum(ActivityReport.participants), 0),
                    func.coalesce(func.sum(ActivityReport.budget), 0))
             .where(ActivityReport.activity_date >= first, ActivityReport.activity_date <= today, _live())
             .group_by(year, month, ActivityReport.budget_source))
    if not scope.is_national:
        query = query.join(ActivityReport.organization).where(in_scope(Organization.province_id, scope))
    points = {month_start(today, back): MonthPoint(month_start(today, back)) for back in range(months - 1, -1, -1)}
    for y, m, source, n, people, baht in session.execute(query):
        point = points[date(int(y), int(m), 1)]
        point.reports += int(n)
        point.participants += int(people)
        amount = Decimal(str(baht))
        if amount:
            point.baht_by_source[source] = point.baht_by_source.get(source, Decimal(0)) + amount
    return list(points.values())


# ---- provinces ---------------------------------------------------------------------------------


@dataclass
class ProvinceActivity:
    code: str
    name_th: str
    name_en: str
    short_th: str
    short_en: str
    reports: int  # live reports dated this Bangkok month (up to today)
    last_report: date | None  # the latest live report's activity date (up to today); None: never

    @property
    def silent(self) -> bool:
        """No report dated this month: the digests' "silent province"."""
        return self.reports == 0

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_th

    def label(self, locale: str) -> str:
        return self.short_en if locale == "en" else self.short_th


def _provinces(session: Session, scope: Scope) -> list[tuple[int, str, str, str, str, str]]:
    return list(session.execute(
        select(Province.id, Province.code, Province.name_th, Province.name_en, Province.short_th, Province.short_en)
        .where(in_scope(Province.id, scope)).order_by(Province.code)).tuples())


def _last_reports(session: Session, province_ids: list[int], today: date) -> dict[int, date]:
    """The latest live report date (≤ today) of each province, one correlated MAX per province
    (the reports' (organization, activity date) index answers each organization's from its end)."""
    if not province_ids:
        return {}
    latest = (select(func.max(ActivityReport.activity_date)).join(ActivityReport.organization)
              .where(Organization.province_id == Province.id, ActivityReport.activity_date <= today, _live())
              .scalar_subquery())
    return {pid: day for pid, day in session.execute(
        select(Province.id, latest).where(Province.id.in_(province_ids))) if day is not None}


def province_activity(session: Session, scope: Scope, *, now: datetime, tz: ZoneInfo = BANGKOK) -> list[ProvinceActivity]:
    """Every province of the scope, by code, with its reports this Bangkok month and its last report.

    Provinces that reported this month take their last report from this month's figures; only
    the silent ones are looked up further back."""
    today = bangkok_today(now, tz)
    first = month_start(today)
    rows = session.execute(
        select(Organization.province_id, func.count(), func.max(ActivityReport.activity_date))
        .join(ActivityReport.organization)
        .where(ActivityReport.activity_date >= first, ActivityReport.activity_date <= today, _live(),
               in_scope(Organization.province_id, scope))
        .group_by(Organization.province_id))
    this_month = {pid: (int(n), last) for pid, n, last in rows}
    provinces = _provinces(session, scope)
    earlier = _last_reports(session, [p[0] for p in provinces if p[0] not in this_month], today)
    out = []
    for pid, code, name_th, name_en, short_th, short_en in provinces:
        n, last = this_month.get(pid, (0, earlier.get(pid)))
        out.append(ProvinceActivity(code, name_th, name_en, short_th, short_en, n, last))
    return out


def silent_provinces(session: Session, scope: Scope, *, now: datetime, tz: ZoneInfo = BANGKOK,
                     activities: list[ProvinceActivity] | None = None) -> list[ProvinceActivity]:
    """The scope's provinces with no live report dated this Bangkok month, the longest silent first
    (never-reported ones first of all), then by code. Pass `activities` to reuse them."""
    if activities is None:
        today = bangkok_today(now, tz)
        first = month_start(today)
        reported = (select(ActivityReport.id).join(ActivityReport.organization)
                    .where(Organization.province_id == Province.id, ActivityReport.activity_date >= first,
                           ActivityReport.activity_date <= today, _live())
                    .exists())
        rows = list(session.execute(
            select(Province.id, Province.code, Province.name_th, Province.name_en, Province.short_th,
                   Province.short_en).where(in_scope(Province.id, scope), ~reported)).tuples())
        last = _last_reports(session, [r[0] for r in rows], today)
        activities = [ProvinceActivity(code, th, en, sth, sen, 0, last.get(pid))
                      for pid, code, th, en, sth, sen in rows]
    silent = [a for a in activities if a.silent]
    return sorted(silent, key=lambda a: (a.last_report is not None, a.last_report or date.min, a.code))


# ---- certification ------------------------------------------------------------------------------


@dataclass
class CertificationWaits:
    pending: int
    median_days: float | None  # None when nothing is waiting
    longest_days: int | None


def certification_waits(session: Session, scope: Scope, *, now: datetime, tz: ZoneInfo = BANGKOK) -> CertificationWaits:
    """Organizations waiting for certification in the scope, and how many Bangkok days they have
    waited since they registered (as the digest counts them)."""
    today = bangkok_today(now, tz)
    created = list(session.scalars(
        select(Organization.created_at)
        .where(Organization.status == OrgStatus.PENDING, in_scope(Organization.province_id, scope))))
    if not created:
        return CertificationWaits(0, None, None)
    days = [max(0, (today - c.astimezone(tz).date()).days) for c in created]
    return CertificationWaits(len(days), float(median(days)), max(days))


# ---- everything the overview shows ---------------------------------------------------------------


@dataclass
class Overview:
    scope: Scope
    months: list[MonthPoint]
    provinces: list[ProvinceActivity]
    silent: list[ProvinceActivity]
    waits: CertificationWaits


def overview(session: Session, scope: Scope, *, now: datetime, tz: ZoneInfo = BANGKOK) -> Overview:
    provinces = province_activity(session, scope, now=now, tz=tz)
    return Overview(scope, monthly_activity(session, scope, now=now, tz=tz), provinces,
                    silent_provinces(session, scope, now=now, tz=tz, activities=provinces),
                    certification_waits(session, scope, now=now, tz=tz))
