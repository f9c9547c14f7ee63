"""The daily report rollups (bot/models/rollups.py) equal a recount from the reports, whatever happens.

Random sequences of new reports, corrections (organization, issue, figures), withdrawals, commits
and rollbacks, around Bangkok midnight; then the migration's backfill from reports already stored.
Both run on PostgreSQL too (TEST_DATABASE_URL).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from bot import digests, migrate
from bot.models import ActivityReport, ActivityType, Organization, OrgStatus, Province, ScopeKind, StrategicIssue
from bot.models.rollups import rebuild

from .helpers import person, rollups_and_recount

# 16:00 UTC is 23:00 in Bangkok: hours after it fall on the next Bangkok day.
BASE = datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)
LEADER = "U" + "a" * 32


def _arrange(db):
    """Three organizations in two provinces, a leader, two issues (created once per test)."""
    orgs = list(db.scalars(select(Organization).order_by(Organization.id)))
    if not orgs:
        leader = person(db, LEADER)
        provinces = list(db.scalars(select(Province).where(Province.code.in_(("50", "40"))).order_by(Province.code)))
        for n, province in enumerate((provinces[0], provinces[1], provinces[1])):
            db.add(Organization(name=f"กลุ่มที่ {n}", org_type="community", province=province, member_count=20,
                                status=OrgStatus.CERTIFIED, registered_by=leader))
        db.commit()
        orgs = list(db.scalars(select(Organization).order_by(Organization.id)))
    issues = list(db.scalars(select(StrategicIssue.id).order_by(StrategicIssue.id).limit(2)))
    return orgs, issues


figures = st.fixed_dictionaries({
    "org": st.integers(0, 2),
    "issue": st.sampled_from([None, 0, 1]),
    "participants": st.integers(1, 500),
    "budget": st.one_of(st.none(), st.decimals(min_value=0, max_value=99_999, places=2)),
})
operation = st.one_of(
    st.tuples(st.just("new"), figures, st.integers(0, 30)),  # hours after BASE
    st.tuples(st.just("correct"), figures, st.integers(0, 1000)),  # which report (modulo)
    st.tuples(st.just("withdraw"), st.integers(0, 1000)),
    st.tuples(st.just("commit")),
    st.tuples(st.just("rollback")),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=14))
def test_rollups_equal_a_recount_after_any_sequence_of_writes(db, ops):
    orgs, issues = _arrange(db)

    def fill(report, f):
        report.organization_id = orgs[f["org"]].id
        report.issue_id = None if f["issue"] is None else issues[f["issue"]]
        report.participants = f["participants"]
        report.budget = f["budget"]

    for op in ops:
        live = list(db.scalars(select(ActivityReport).where(ActivityReport.withdrawn_at.is_(None))
                               .order_by(ActivityReport.id)))
        if op[0] == "new":
            created = BASE + timedelta(hours=op[2])
            report = ActivityReport(author_id=orgs[0].registered_by_id, activity_type=ActivityType.MEETING,
                                    activity_date=created.date(), description="ประชุม", created_at=created)
            fill(report, op[1])
            db.add(report)
            db.flush()
        elif op[0] == "correct" and live:
            report = db.get(ActivityReport, live[op[2] % len(live)].id, with_for_update=True)
            fill(report, op[1])
            db.flush()
        elif op[0] == "withdraw" and live:
            live[op[1] % len(live)].withdrawn_at = BASE + timedelta(days=2)
            db.flush()
        elif op[0] == "commit":
            db.commit()
        elif op[0] == "rollback":
            db.rollback()
    db.commit()
    stored, recount = rollups_and_recount(db)
    assert stored == recount


def test_the_national_digest_from_rollups_equals_the_exact_one(db, services):
    """The same figures whether read from the rollups or counted from the reports."""
    orgs, issues = _arrange(db)
    for n in range(12):
        created = BASE + timedelta(hours=n * 3)
        db.add(ActivityReport(organization_id=orgs[n % 3].id, author_id=orgs[0].registered_by_id,
                              activity_type=ActivityType.MEETING, activity_date=created.date(), description="ประชุม",
                              issue_id=issues[n % 2] if n % 3 else None, participants=n + 1,
                              budget=Decimal(n * 100) if n % 2 else None, created_at=created,
                              withdrawn_at=created if n == 7 else None))
    db.commit()
    tz = services.settings.timezone
    national = digests.Scope(ScopeKind.NATIONAL)
    for period in (digests.daily_period(date(2026, 11, 25)), digests.weekly_period(date(2026, 11, 30))):
        bounds = digests._utc_bounds(period, tz)
        exact = digests._from_reports(db, national, *bounds)
        rolled = digests._from_rollups(db, national, period)
        assert {p: (n, people, Decimal(baht)) for p, n, people, baht in exact[0]} == \
            {p: (n, people, Decimal(baht)) for p, n, people, baht in rolled[0]}
        assert {i: (n, people) for i, n, people in exact[1]} == {i: (n, people) for i, n, people in rolled[1]}
        assert exact[2] == rolled[2] and rolled[2]
        digest = digests.compute(db, ScopeKind.NATIONAL, "", period, tz=tz, locale="th", now=BASE + timedelta(days=7))
        assert digest.reports == sum(n for _, n, _, _ in exact[0]) > 0


def test_the_migration_backfills_the_reports_already_stored(db, migrated):
    """Migration 0009 on a database that already has reports: the rollups equal the recount."""
    orgs, issues = _arrange(db)
    author = orgs[0].registered_by_id
    db.close()
    cfg = migrate.alembic_config(migrated.url.render_as_string(hide_password=False))
    with migrated.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    try:
        with migrated.begin() as conn:  # Core: written the way reports were before the rollups existed
            conn.execute(insert(ActivityReport), [
                dict(organization_id=orgs[n % 3].id, author_id=author, activity_type=ActivityType.MEETING,
                     issue_id=issues[n % 2] if n % 4 else None, activity_date=date(2026, 11, 25),
                     participants=10 + n, description="", budget=Decimal("12.50") * n if n % 3 else None,
                     created_at=BASE + timedelta(hours=n * 5), updated_at=BASE,
                     withdrawn_at=BASE if n == 4 else None) for n in range(10)])
    finally:
        migrate.upgrade(migrated)
    stored, recount = rollups_and_recount(db)
    assert stored == recount and len(stored[1]) >= 4
    # rebuild (after Core bulk writes, e.g. scripts/bench_digest.py) gives the same rows.
    with migrated.begin() as conn:
        conn.execute(delete(ActivityReport).where(ActivityReport.participants == 10))
        rebuild(conn)
    db.expire_all()
    stored, recount = rollups_and_recount(db)
    assert stored == recount
