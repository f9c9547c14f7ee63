"""The movement's figures for a scope: activity per month, per province, and certification waits.

What the console's overview and the weekly digest's chart show. Report figures come from the day
totals the database keeps (bot/models/totals.py: live reports summed per province, day and
budget source), so a national year over a million reports reads at most a row per province and
day, never the reports. Only live reports count (not withdrawn), as in the digests; a report
belongs to the Bangkok month of its `activity_date` (the day the activity happened), as the
digests' "silent provinces" do.

Domain level: reads the models through `scopes`; renders nothing (bot/charts.py draws these).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .models import ActivityDayTotal, BudgetSource, Organization, OrgStatus, Province
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


CENT = Decimal("0.01")


def _baht(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def monthly_activity(session: Session, scope: Scope, *, now: datetime, months: int = 12, tz: ZoneInfo = BANGKOK) -> list[MonthPoint]:
    """One point per Bangkok month, oldest first, ending with the current month (so far); months
    with no report are there with zeros. Reports dated after today are not counted.

    Read from the day totals (bot/models/totals.py): at most a row per province, day and source."""
    today = bangkok_today(now, tz)
    first = month_start(today, months - 1)
    query = (select(ActivityDayTotal.day, ActivityDayTotal.budget_source, func.sum(ActivityDayTotal.reports),
                    func.sum(ActivityDayTotal.participants), func.sum(ActivityDayTotal.baht))
             .where(ActivityDayTotal.day >= first, ActivityDayTotal.day <= today,
                    in_scope(ActivityDayTotal.province_id, scope))
             .group_by(ActivityDayTotal.day, ActivityDayTotal.budget_source))
    points = {month_start(today, back): MonthPoint(month_start(today, back)) for back in range(months - 1, -1, -1)}
    for day, source, n, people, baht in session.execute(query):
        point = points[day.replace(day=1)]
        point.reports += int(n or 0)
        point.participants += int(people or 0)
        amount = _baht(baht)
        if amount:
            key = BudgetSource(source) if source else None
            point.baht_by_source[key] = point.baht_by_source.get(key, Decimal(0)) + amount
    for point in points.values():  # a source whose reports were all withdrawn leaves a zero behind
        point.baht_by_source = {k: v for k, v in point.baht_by_source.items() if v}
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


def province_activity(session: Session, scope: Scope, *, now: datetime, tz: ZoneInfo = BANGKOK) -> list[ProvinceActivity]:
    """Every province of the scope, by code, with its reports this Bangkok month and its last report.

    Provinces that reported this month take their last report from this month's totals; only the
    silent ones are looked up further back (each from its own end of the totals' primary key)."""
    today = bangkok_today(now, tz)
    first = month_start(today)
    counted = ActivityDayTotal.reports > 0
    this_month = {pid: (int(n or 0), last) for pid, n, last in session.execute(
        select(ActivityDayTotal.province_id, func.sum(ActivityDayTotal.reports),
               func.max(case((counted, ActivityDayTotal.day))))
        .where(ActivityDayTotal.day >= first, ActivityDayTotal.day <= today,
               in_scope(ActivityDayTotal.province_id, scope))
        .group_by(ActivityDayTotal.province_id))}
    provinces = list(session.execute(
        select(Province.id, Province.code, Province.name_th, Province.name_en, Province.short_th, Province.short_en)
        .where(in_scope(Province.id, scope)).order_by(Province.code)).tuples())
    silent = [p[0] for p in provinces if this_month.get(p[0], (0, None))[0] == 0]
    earlier: dict[int, date] = {}
    if silent:
        earlier = {pid: day for pid, day in session.execute(
            select(ActivityDayTotal.province_id, func.max(ActivityDayTotal.day))
            .where(ActivityDayTotal.province_id.in_(silent), ActivityDayTotal.day <= today, counted)
            .group_by(ActivityDayTotal.province_id)) if day is not None}
    out = []
    for pid, code, name_th, name_en, short_th, short_en in provinces:
        n, last = this_month.get(pid, (0, None))
        out.append(ProvinceActivity(code, name_th, name_en, short_th, short_en, n, last if n else earlier.get(pid)))
    return out


def silent_provinces(session: Session, scope: Scope, *, now: datetime, tz: ZoneInfo = BANGKOK,
                     activities: list[ProvinceActivity] | None = None) -> list[ProvinceActivity]:
    """The scope's provinces with no live report dated this Bangkok month, the longest silent first
    (never-reported ones first of all), then by code. Pass `activities` to reuse them."""
    if activities is None:
        activities = province_activity(session, scope, now=now, tz=tz)
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


# ---- totals between two days (the console's reports page) ----------------------------------------


@dataclass
class Totals:
    reports: int
    participants: int
    baht_by_source: dict[BudgetSource | None, Decimal]  # sources with baht only


def totals_between(session: Session, scope: Scope, *, start: date | None, end: date | None,
                   province_id: int | None = None) -> Totals:
    """Live reports, participants and baht by source dated start..end (either open) in the scope,
    or one province of it, from the day totals: as fast for a year of the country as for a day."""
    where = [in_scope(ActivityDayTotal.province_id, scope)]
    if province_id is not None:
        where.append(ActivityDayTotal.province_id == province_id)
    if start is not None:
        where.append(ActivityDayTotal.day >= start)
    if end is not None:
        where.append(ActivityDayTotal.day <= end)
    rows = session.execute(select(ActivityDayTotal.budget_source, func.sum(ActivityDayTotal.reports),
                                  func.sum(ActivityDayTotal.participants), func.sum(ActivityDayTotal.baht))
                           .where(*where).group_by(ActivityDayTotal.budget_source)).all()
    by_source: dict[BudgetSource | None, Decimal] = {}
    for source, _reports, _people, baht in rows:
        if baht:
            by_source[BudgetSource(source) if source else None] = Decimal(baht)
    return Totals(int(sum(r[1] or 0 for r in rows)), int(sum(r[2] or 0 for r in rows)), by_source)
