"""Group digests: what happened in a bound group's scope, counted in SQL, drawn as a compact Flex table.

Every figure is an aggregate query (COUNT/SUM … GROUP BY) over the scope's provinces. The report
figures of a national (or region, group) digest come from the daily rollups kept with every report
write (bot/models/rollups.py), so a digest over a million reports reads a few hundred rows, never the
reports; a province's digest counts its reports exactly. Groups are read
by everyone in them: a digest names provinces, issues and organizations, never a person.

Jobs: the daily digest (18:00) and the weekly one (Monday 08:00) go to every group bound for them,
each in the group's language, with a dedupe key per group and period; an empty period sends nothing.
Two more jobs carry assembly results and new certification requests to the groups bound for them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from linebot.v3.messaging import FlexMessage, ImageMessage, Message
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from . import links, scopes, stats, ui
from .cards.digests import render
from .delivery import enqueue
from .i18n import _, use_locale
from .models import (
    ActivityReport,
    AgendaItem,
    Ballot,
    BoundGroup,
    ItemStatus,
    Member,
    Organization,
    OrgStatus,
    Priority,
    Province,
    ScopeKind,
    StrategicIssue,
)
from .models.rollups import NO_ISSUE, ROLLUP_TZ, OrgDailyRollup, ReportDailyRollup
from .scopes import Scope, in_scope

if TYPE_CHECKING:
    from .services import Services
    from .jobs import JobRegistry

log = logging.getLogger(__name__)

DAILY_HOUR = 18
WEEKLY_HOUR = 8
TOP_ORGS = 5
OLDEST_PENDING = 5
OPEN_VOTES = 5


# ---- scopes ----------------------------------------------------------------------------------


def scope_name(session: Session, kind: ScopeKind, code: str, locale: str) -> str:
    scope = Scope(kind, code)
    if scope.is_national:
        return _("scope.national")
    row = scopes.row_of(session, scope)
    return row.name(locale) if row is not None else code


# ---- the numbers -------------------------------------------------------------------------------


@dataclass
class ProvinceLine:
    name: str
    reports: int
    participants: int
    baht: Decimal


@dataclass
class Digest:
    scope: str  # the scope's name, in the group's language
    period: tuple[date, date]  # [first day, day after the last]
    new_members: int = 0
    new_orgs: int = 0
    pending: int = 0
    pending_oldest: list[tuple[str, int]] = field(default_factory=list)  # (org name, days waiting)
    provinces: list[ProvinceLine] = field(default_factory=list)  # with reports, most first
    issues: list[tuple[str, int, int]] = field(default_factory=list)  # (issue, reports, participants)
    top_orgs: list[tuple[str, int]] = field(default_factory=list)  # (org name, reports)
    silent_provinces: list[str] = field(default_factory=list)  # no report dated this month, by name
    # The same provinces, longest silent first: (name, days since its latest report, None if it never had one).
    longest_silent: list[tuple[str, int | None]] = field(default_factory=list)
    scope_province_count: int = 0
    open_votes: list[tuple[str, int, int]] = field(default_factory=list)  # (title, voted, eligible)

    @property
    def reports(self) -> int:
        return sum(p.reports for p in self.provinces)

    @property
    def participants(self) -> int:
        return sum(p.participants for p in self.provinces)

    @property
    def baht(self) -> Decimal:
        return sum((p.baht for p in self.provinces), Decimal(0))

    @property
    def empty(self) -> bool:
        """Nothing happened in the period: no one joined, no organization, no report."""
        return not (self.new_members or self.new_orgs or self.provinces)


def _utc_bounds(period: tuple[date, date], tz: ZoneInfo) -> tuple[datetime, datetime]:
    return tuple(datetime.combine(d, time(0), tzinfo=tz) for d in period)  # type: ignore[return-value]


def compute(session: Session, kind: ScopeKind, code: str, period: tuple[date, date], *, tz: ZoneInfo,
            locale: str, now: datetime) -> Digest:
    """Every figure of a digest for a scope and period [start, end) of Bangkok days."""
    start, end = _utc_bounds(period, tz)
    digest = Digest(scope_name(session, kind, code, locale), period)
    scope = Scope(kind, code)
    org_scope = in_scope(Organization.province_id, scope)

    digest.new_members = int(session.scalar(select(func.count(Member.id)).where(
        Member.registered_at >= start, Member.registered_at < end, Member.erased_at.is_(None),
        in_scope(Member.province_id, scope))) or 0)
    digest.new_orgs = int(session.scalar(select(func.count(Organization.id)).where(
        Organization.created_at >= start, Organization.created_at < end, org_scope)) or 0)

    pending = and_(Organization.status == OrgStatus.PENDING, org_scope)
    digest.pending = int(session.scalar(select(func.count(Organization.id)).where(pending)) or 0)
    today = now.astimezone(tz).date()
    digest.pending_oldest = [
        (name, max(0, (today - created.astimezone(tz).date()).days))
        for name, created in session.execute(
            select(Organization.name, Organization.created_at).where(pending)
            .order_by(Organization.created_at, Organization.id).limit(OLDEST_PENDING))]

    names = {pid: (name_th, name_en) for pid, name_th, name_en in session.execute(
        select(Province.id, Province.short_th, Province.short_en))}
    pick = 1 if locale == "en" else 0
    issue_name = StrategicIssue.short_en if locale == "en" else StrategicIssue.short_th
    issue_names = {iid: name for iid, name in session.execute(select(StrategicIssue.id, issue_name))}
    if scope.kind is ScopeKind.PROVINCE or getattr(tz, "key", None) != ROLLUP_TZ.key:
        by_province, by_issue, top = _from_reports(session, scope, start, end)
    else:
        by_province, by_issue, top = _from_rollups(session, scope, period)
    digest.provinces = sorted((ProvinceLine(names[pid][pick], int(n), int(people), Decimal(str(baht)))
                               for pid, n, people, baht in by_province), key=lambda p: (-p.reports, p.name))
    digest.issues = sorted(
        ((issue_names.get(iid) or _("digest.issue_none"), int(n), int(people)) for iid, n, people in by_issue),
        key=lambda t: (-t[1], t[0]))
    digest.top_orgs = [(name, int(n)) for name, n in top]

    # The scope's provinces, which reported this month and each one's latest report: the same
    # figures as the console's overview (bot/stats.py, from the day totals). With the latest report,
    # the card can say which have been silent longest rather than list every name.
    provinces = stats.province_activity(session, scope, now=now, tz=tz)
    digest.scope_province_count = len(provinces)
    silent = sorted(((p.label(locale), p.last_report) for p in provinces if p.silent), key=lambda row: row[0])
    digest.silent_provinces = [name for name, _latest in silent]
    digest.longest_silent = [(name, None if latest is None else (today - latest).days) for name, latest in
                             sorted(silent, key=lambda row: (row[1] is not None, row[1] or date.min, row[0]))]

    # Ballots are counted for open items only, not grouped over every ballot of every assembly.
    voted = (select(Ballot.item_id, func.count(Ballot.id).label("voted"))
             .join(AgendaItem, AgendaItem.id == Ballot.item_id)
             .where(AgendaItem.status == ItemStatus.OPEN, Ballot.voted_at.is_not(None))
             .group_by(Ballot.item_id).subquery())
    digest.open_votes = [(title, int(n or 0), int(eligible or 0)) for title, n, eligible in session.execute(
        select(AgendaItem.title, voted.c.voted, AgendaItem.eligible_count)
        .outerjoin(voted, voted.c.item_id == AgendaItem.id)
        .where(AgendaItem.status == ItemStatus.OPEN).order_by(AgendaItem.closes_at).limit(OPEN_VOTES))]
    return digest



def _top(session: Session, counts, org_scope=None) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """The TOP_ORGS organizations of a (org_id, n) subquery, name order among equals.

    Only those counting at least as many as the TOP_ORGS-th (ties included, so the name order among
    equals stays exact) are joined to their names, instead of joining every organization that
    reported to sort them all."""
    cutoff = select(counts.c.n).order_by(counts.c.n.desc()).offset(TOP_ORGS - 1).limit(1).scalar_subquery()
    return [(name, int(n)) for name, n in session.execute(
        select(Organization.name, counts.c.n).join(counts, counts.c.org_id == Organization.id)
        .where(counts.c.n >= func.coalesce(cutoff, 0))
        .order_by(counts.c.n.desc(), Organization.name).limit(TOP_ORGS))]


def _from_reports(session: Session, scope: Scope, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    """Reports, participants and baht by province and by issue, and the top organizations, counted
    exactly from the period's reports (a province's digest; reads the period's reports).

    Every aggregate reads only the period's live reports, from the covering partial index
    ix_activity_reports_live_created (bot/models/groups.py): count(*) rather than count(id), so no
    column outside it is needed. The organizations are joined only for what needs them: the
    province of each report, and a scope narrower than the nation."""
    org_scope = in_scope(Organization.province_id, scope)
    reported = and_(ActivityReport.created_at >= start, ActivityReport.created_at < end,
                    ActivityReport.withdrawn_at.is_(None))

    def scoped(query):  # type: ignore[no-untyped-def]
        return query if scope.is_national else query.join(ActivityReport.organization).where(org_scope)

    by_province = session.execute(
        select(Organization.province_id, func.count(),
               func.coalesce(func.sum(ActivityReport.participants), 0),
               func.coalesce(func.sum(ActivityReport.budget), 0))
        .join(ActivityReport.organization).where(reported, org_scope)
        .group_by(Organization.province_id)).all()
    by_issue = session.execute(scoped(
        select(ActivityReport.issue_id, func.count(), func.coalesce(func.sum(ActivityReport.participants), 0))
        .where(reported)).group_by(ActivityReport.issue_id)).all()
    counts = (scoped(select(ActivityReport.organization_id.label("org_id"), func.count().label("n"))
                     .where(reported)).group_by(ActivityReport.organization_id).cte("org_counts"))
    return by_province, by_issue, _top(session, counts)


def _from_rollups(session: Session, scope: Scope, period: tuple[date, date]):  # type: ignore[no-untyped-def]
    """The same figures from the daily rollups (bot/models/rollups.py): a national daily digest reads
    77 provinces × the issues, and the day's top organizations from an index, not 100,000 reports."""
    R, O = ReportDailyRollup, OrgDailyRollup
    in_period = and_(R.day >= period[0], R.day < period[1], in_scope(R.province_id, scope))
    by_province = session.execute(
        select(R.province_id, func.sum(R.reports), func.sum(R.participants), func.sum(R.budget))
        .where(in_period).group_by(R.province_id).having(func.sum(R.reports) > 0)).all()
    by_issue = [(None if iid == NO_ISSUE else iid, n, people) for iid, n, people in session.execute(
        select(R.issue_id, func.sum(R.reports), func.sum(R.participants))
        .where(in_period).group_by(R.issue_id).having(func.sum(R.reports) > 0))]
    one_day = period[1] - period[0] == timedelta(days=1)
    # One day: the day's rows by the (day, reports) index, a plain subquery (PostgreSQL inlines it
    # in both places _top uses it, so the TOP_ORGS-th count is read off the index). Several days:
    # summed per organization once, in a CTE.
    org_days = and_(O.day == period[0] if one_day else and_(O.day >= period[0], O.day < period[1]), O.reports > 0)
    if not scope.is_national:
        org_days = and_(org_days, O.organization_id.in_(
            select(Organization.id).where(in_scope(Organization.province_id, scope))))
    if one_day:
        counts = select(O.organization_id.label("org_id"), O.reports.label("n")).where(org_days).subquery("org_counts")
    else:
        counts = (select(O.organization_id.label("org_id"), func.sum(O.reports).label("n")).where(org_days)
                  .group_by(O.organization_id).cte("org_counts"))
    return by_province, by_issue, _top(session, counts)


# ---- periods and sending ------------------------------------------------------------------------


def daily_period(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def weekly_period(day: date) -> tuple[date, date]:
    """The last full week (Monday to Sunday) before the day."""
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(days=7), monday


def digest_for_group(session: Session, group: BoundGroup, *, weekly: bool, now: datetime,
                     tz: ZoneInfo) -> tuple[Digest, FlexMessage]:
    today = now.astimezone(tz).date()
    period = weekly_period(today) if weekly else daily_period(today)
    with use_locale(group.locale) as locale:
        digest = compute(session, group.scope_kind, group.scope_code, period, tz=tz, locale=locale, now=now)
        return digest, render(digest, weekly=weekly, locale=locale)


def send_digests(services: Services, now: datetime, *, weekly: bool) -> int:
    """Queue the digest of every group bound for it; empty ones are skipped. Returns pushes queued."""
    tz = services.settings.timezone
    flag = BoundGroup.weekly_digest if weekly else BoundGroup.daily_digest
    kind = "weekly" if weekly else "daily"
    queued = 0
    with services.session_factory() as reader:
        groups = list(reader.scalars(select(BoundGroup.id).where(flag.is_(True)).order_by(BoundGroup.id)))
    for group_id in groups:  # a transaction per group: one failing scope does not hold back the rest
        with services.session_factory() as session, session.begin():
            group = session.get(BoundGroup, group_id)
            if group is None:
                continue
            digest, message = digest_for_group(session, group, weekly=weekly, now=now, tz=tz)
            if digest.empty:
                continue
            messages: list[Message] = [message]
            if weekly and (chart := chart_image(services, group, now=now)) is not None:
                messages.append(chart)
            rows = enqueue(session, [group.line_group_id], messages, now=now, kind=f"digest.{kind}",
                           priority=Priority.LOW,
                           dedupe_key=f"digest:{kind}:{group.id}:{digest.period[0].isoformat()}")
            queued += bool(rows)
    log.info("%s digests: %d of %d groups queued", kind, queued, len(groups))
    return queued


def chart_image(services: Services, group: BoundGroup, *, now: datetime) -> ImageMessage | None:
    """The 12-month chart of the group's scope, up to this month, as an image LINE fetches from the
    bot's own HTTPS endpoint (bot/chart_images.py) under a signed, expiring link; None without a
    public base URL."""
    month = now.astimezone(services.settings.timezone).date().replace(day=1)
    url = links.chart_url(services.settings, group.scope, month, group.locale, now=now)
    return ImageMessage(original_content_url=url, preview_image_url=url) if url else None


def daily_digests(services: Services, now: datetime) -> int:
    return send_digests(services, now, weekly=False)


def weekly_digests(services: Services, now: datetime) -> int:
    return send_digests(services, now, weekly=True)


# ---- assembly results and certification requests for bound groups ------------------------------

RECENT = timedelta(days=2)  # older news is not pushed to a group that binds later


def group_results(session: Session, now: datetime, tz: ZoneInfo) -> list[int]:
    """Results of items closed recently, to groups bound for assembly results (once per group)."""
    from .assembly import tally
    from .cards.assembly import result_card

    groups = session.scalars(select(BoundGroup).where(BoundGroup.assembly_results.is_(True))).all()
    if not groups:
        return []
    items = session.scalars(select(AgendaItem).where(
        AgendaItem.status == ItemStatus.CLOSED, AgendaItem.closed_at >= now - RECENT)
        .order_by(AgendaItem.closed_at)).all()
    ids: list[int] = []
    for item in items:
        result = None
        for group in groups:
            if item.closed_at is not None and item.closed_at < group.bound_at:
                continue
            result = result or tally(session, item)
            with use_locale(group.locale) as locale:
                rows = enqueue(session, [group.line_group_id], [result_card(item, result, tz, locale)],
                               now=now, kind="vote.result", priority=Priority.HIGH, urgent=True,
                               dedupe_key=f"vote:{item.id}:result:group:{group.id}")
            ids += [r.id for r in rows]
    return ids


def certification_requests(session: Session, now: datetime) -> list[int]:
    """New organizations waiting for certification, to groups bound for them (organization names only)."""
    groups = session.scalars(select(BoundGroup).where(BoundGroup.certification_requests.is_(True))).all()
    ids: list[int] = []
    for group in groups:
        since = max(group.bound_at, now - RECENT)
        orgs = session.execute(
            select(Organization.id, Organization.name, Province.short_th, Province.short_en)
            .join(Organization.province)
            .where(Organization.status == OrgStatus.PENDING, Organization.created_at >= since,
                   in_scope(Organization.province_id, Scope.of(group)))
            .order_by(Organization.id).limit(50)).all()
        for org_id, name, short_th, short_en in orgs:
            with use_locale(group.locale) as locale:
                message = ui.text(_("digest.cert_request", org=name, province=short_en if locale == "en" else short_th))
            rows = enqueue(session, [group.line_group_id], [message], now=now, kind="org.cert_request.group",
                           priority=Priority.NORMAL, dedupe_key=f"org:{org_id}:cert_request:group:{group.id}")
            ids += [r.id for r in rows]
    return ids


def _group_news(services: Services, now: datetime) -> int:
    with services.session_factory() as session, session.begin():
        return len(group_results(session, now, services.settings.timezone)) + len(certification_requests(session, now))


def register_jobs(registry: JobRegistry) -> None:
    from .jobs import JobSpec

    registry.add(JobSpec("group_daily_digest", daily_digests, {"hour": DAILY_HOUR, "minute": 0},
                         "18:00: the day's digest to every group bound for it (nothing when nothing happened)"))
    registry.add(JobSpec("group_weekly_digest", weekly_digests, {"day_of_week": "mon", "hour": WEEKLY_HOUR, "minute": 0},
                         "Monday 08:00: last week's digest to every group bound for it"))
    registry.add(JobSpec("group_news", _group_news, {"minute": "*"},
                         "every minute: assembly results and new certification requests to the groups bound for them"))

