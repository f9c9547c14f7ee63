"""Daily rollups of activity reports, kept by every write of a report in the same transaction.

A national digest over a million reports reads these instead of the reports: one row per
(Bangkok day the report came in, province of its organization, strategic issue) with the report
count, participants and budget, and one row per (day, organization) with its report count (the
digest's top organizations). Withdrawn reports do not count.

Kept by an `after_flush` listener on every ORM session (registered when `bot.models` is
imported): each ActivityReport the flush inserted, changed or deleted moves its old contribution
out and its new one in, with one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n` per
table, in the flush's own transaction (row locks on PostgreSQL, keys in sorted order so two
writers never deadlock). So every write path — a new report, a correction (which may change the
organization, the issue, the figures), a withdrawal — and any future one through the ORM keeps
them exact without remembering to. Not covered, by design: Core bulk INSERT/UPDATE of reports
(the benchmark's seeding calls `rebuild`), deleting an organization (no code path does; its
reports' province rows would stay), and moving an organization to another province (no code path
does either; the rows are keyed by the province at the time of the report).

`rebuild` recomputes both tables from the reports in SQL (migration 0009 does the same backfill).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Connection, Date, ForeignKey, Index, Numeric, event, inspect, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.util import identity_key

from .base import Base
from .organizations import Organization
from .reports import ActivityReport

# The rollup's days are Bangkok calendar days (UTC+7, no daylight saving). A digest computed for
# another time zone reads the reports instead (bot/digests.py).
ROLLUP_TZ = ZoneInfo("Asia/Bangkok")
NO_ISSUE = 0  # issue_id is part of the key, which cannot be NULL: 0 stands for "no issue"


class ReportDailyRollup(Base):
    """Live reports per (Bangkok day they came in, province, issue)."""

    __tablename__ = "report_daily_rollups"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), primary_key=True)
    issue_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # NO_ISSUE or strategic_issues.id
    reports: Mapped[int]
    participants: Mapped[int] = mapped_column(BigInteger)
    budget: Mapped[Decimal] = mapped_column(Numeric(16, 2))


class OrgDailyRollup(Base):
    """Live reports per (Bangkok day they came in, organization): the digest's top organizations."""

    __tablename__ = "report_daily_org_counts"
    __table_args__ = (
        # A day's top organizations straight from the index, most reports first.
        Index("ix_report_daily_org_counts_day_reports", "day", "reports"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    reports: Mapped[int]


def rollup_day(created_at: datetime) -> date:
    return created_at.astimezone(ROLLUP_TZ).date()


# ---- keeping them ------------------------------------------------------------------------------

_COUNTED = ("created_at", "organization_id", "issue_id", "participants", "budget", "withdrawn_at")


def _before(report: ActivityReport) -> dict[str, Any]:
    """The report's values as the database held them before this flush."""
    state = inspect(report)
    old: dict[str, Any] = {}
    for key in _COUNTED:
        history = state.attrs[key].history
        if history.deleted:
            old[key] = history.deleted[0]
        elif history.unchanged:
            old[key] = history.unchanged[0]
        else:  # not changed (the counted columns keep active history, so a change always has its old value)
            old[key] = getattr(report, key)
    return old


def _now(report: ActivityReport) -> dict[str, Any]:
    return {key: getattr(report, key) for key in _COUNTED}


def _provinces(session: Session, org_ids: set[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for org_id in org_ids:
        org = session.identity_map.get(identity_key(Organization, org_id))
        if org is not None and "province_id" in org.__dict__:
            found[org_id] = org.__dict__["province_id"]
    missing = org_ids - found.keys()
    if missing:
        found.update(session.connection().execute(
            select(Organization.id, Organization.province_id).where(Organization.id.in_(missing))).all())
    return found


def _keep_rollups(session: Session, _flush_context: Any) -> None:
    changes: list[tuple[int, dict[str, Any]]] = []  # (sign, values)
    for obj in session.new:
        if isinstance(obj, ActivityReport):
            changes.append((1, _now(obj)))
    for obj in session.dirty:
        if isinstance(obj, ActivityReport) and session.is_modified(obj, include_collections=False):
            changes += [(-1, _before(obj)), (1, _now(obj))]
    for obj in session.deleted:
        if isinstance(obj, ActivityReport):
            changes.append((-1, _before(obj)))
    changes = [(sign, v) for sign, v in changes if v["withdrawn_at"] is None and v["organization_id"] is not None]
    if not changes:
        return
    provinces = _provinces(session, {v["organization_id"] for _, v in changes})
    by_issue: dict[tuple[date, int, int], list[Any]] = defaultdict(lambda: [0, 0, Decimal(0)])
    by_org: dict[tuple[date, int], int] = defaultdict(int)
    for sign, v in changes:
        day = rollup_day(v["created_at"])
        row = by_issue[(day, provinces[v["organization_id"]], v["issue_id"] or NO_ISSUE)]
        row[0] += sign
        row[1] += sign * v["participants"]
        row[2] += sign * Decimal(v["budget"] or 0)
        by_org[(day, v["organization_id"])] += sign
    conn = session.connection()
    _add(conn, ReportDailyRollup, [
        dict(day=k[0], province_id=k[1], issue_id=k[2], reports=n, participants=people, budget=baht)
        for k, (n, people, baht) in sorted(by_issue.items()) if (n, people, baht) != (0, 0, 0)])
    _add(conn, OrgDailyRollup, [dict(day=k[0], organization_id=k[1], reports=n)
                                for k, n in sorted(by_org.items()) if n])


def _add(conn: Connection, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Add each row's figures to the row with its key, creating it at zero first: one statement."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    keys = [c.name for c in table.primary_key.columns]
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(rows)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: table.c[name] + stmt.excluded[name] for name in rows[0] if name not in keys}))


event.listen(Session, "after_flush", _keep_rollups)


# ---- rebuilding them ---------------------------------------------------------------------------


def day_sql(dialect: str) -> str:
    """SQL for the Bangkok day of activity_reports.created_at (SQLite stores UTC without offset)."""
    if dialect == "postgresql":
        return "CAST(r.created_at AT TIME ZONE 'Asia/Bangkok' AS DATE)"
    return "date(r.created_at, '+7 hours')"


def rebuild(conn: Connection) -> None:
    """Recompute both tables from the reports (after Core bulk writes that bypassed the listener)."""
    day = day_sql(conn.dialect.name)
    conn.execute(text("DELETE FROM report_daily_rollups"))
    conn.execute(text("DELETE FROM report_daily_org_counts"))
    conn.execute(text(
        f"INSERT INTO report_daily_rollups (day, province_id, issue_id, reports, participants, budget) "
        f"SELECT {day}, o.province_id, COALESCE(r.issue_id, {NO_ISSUE}), COUNT(*), SUM(r.participants), "
        f"COALESCE(SUM(r.budget), 0) FROM activity_reports r JOIN organizations o ON o.id = r.organization_id "
        f"WHERE r.withdrawn_at IS NULL GROUP BY 1, 2, 3"))
    conn.execute(text(
        f"INSERT INTO report_daily_org_counts (day, organization_id, reports) "
        f"SELECT {day}, r.organization_id, COUNT(*) FROM activity_reports r "
        f"WHERE r.withdrawn_at IS NULL GROUP BY 1, 2"))
