"""Benchmark: group digests over 80,000 organizations and 1,000,000 activity reports.

    .venv/bin/python scripts/bench_digest.py                        # SQLite in a temporary file
    .venv/bin/python scripts/bench_digest.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reset
    .venv/bin/python scripts/bench_digest.py --orgs 8000 --reports 100000   # a quicker run

Rows are inserted with Core executemany in chunks (multi-row INSERTs, no COPY), spread over the
77 provinces, the strategic issues and the last 60 days, a tenth of them today; the daily rollups
(bot/models/rollups.py) are then rebuilt from them. Then it times the daily digest for the nation
(read from the rollups) and for one province (counted exactly from the reports), the national
weekly digest, and the rendering of the Flex message, and prints its size against LINE's limits.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot import digests, migrate  # noqa: E402
from bot.cards.digests import render  # noqa: E402
from bot.db import make_engine, recreate_schema  # noqa: E402
from bot.i18n import use_locale  # noqa: E402
from bot.models import (  # noqa: E402
    ActivityReport,
    ActivityType,
    BudgetSource,
    Member,
    Organization,
    OrgStatus,
    Province,
    ScopeKind,
    StrategicIssue,
)
from bot.models.rollups import rebuild  # noqa: E402
from bot.seed import seed  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

CHUNK = 10_000
TZ = ZoneInfo("Asia/Bangkok")
NOW = datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)  # 18:00 in Bangkok: the daily digest


def build(engine, orgs: int, reports: int, rng: random.Random, *, report_days: int = 60) -> None:
    """Seed the geography, then organizations and reports (a tenth today, the rest over `report_days`)."""
    with Session(engine) as session, session.begin():
        seed(session)
    with engine.begin() as conn:
        provinces = list(conn.scalars(select(Province.id)))
        issues = list(conn.scalars(select(StrategicIssue.id)))
        author = conn.execute(insert(Member).values(line_user_id="U" + "0" * 32, locale="th", active=True,
                                                    created_at=NOW, updated_at=NOW)).inserted_primary_key[0]
        t0 = time.perf_counter()
        for start in range(0, orgs, CHUNK):
            rows = []
            for n in range(start, min(orgs, start + CHUNK)):
                created = NOW - timedelta(days=rng.randrange(0, 400), minutes=rng.randrange(0, 1440))
                rows.append(dict(name=f"สภาองค์กรชุมชนตำบลบ้านทดสอบที่ {n}", org_type="community",
                                 province_id=rng.choice(provinces), locality="", member_count=rng.randrange(5, 500),
                                 status=OrgStatus.PENDING if rng.random() < 0.05 else OrgStatus.CERTIFIED,
                                 created_at=created, updated_at=created))
            conn.execute(insert(Organization), rows)
        org_ids = list(conn.scalars(select(Organization.id)))
        print(f"  {orgs:,} organizations in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        for start in range(0, reports, CHUNK):
            rows = []
            for _n in range(start, min(reports, start + CHUNK)):
                age = 0 if rng.random() < 0.1 else rng.randrange(1, report_days)
                created = NOW - timedelta(days=age, minutes=rng.randrange(0, 600))
                rows.append(dict(organization_id=rng.choice(org_ids), author_id=author,
                                 activity_type=ActivityType.MEETING, issue_id=rng.choice(issues),
                                 activity_date=created.astimezone(TZ).date(), participants=rng.randrange(3, 200),
                                 description="", budget=Decimal(rng.randrange(0, 50_000)),
                                 budget_source=rng.choice(list(BudgetSource)),
                                 created_at=created, updated_at=created))
            conn.execute(insert(ActivityReport), rows)
            if (start // CHUNK) % 20 == 0:
                print(f"  {start + len(rows):,} reports…", flush=True)
        print(f"  {reports:,} reports in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        rebuild(conn)  # Core inserts bypass the ORM listener that keeps the daily rollups
        print(f"  daily rollups rebuilt in {time.perf_counter() - t0:.1f} s", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))

def dataset_arguments(parser, *, verb: str = "time") -> None:
    """The options every benchmark over the national-scale dataset takes (console, pages, export)."""
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the PostgreSQL public schema first")
    parser.add_argument("--reuse", action="store_true", help=f"{verb} an already seeded database (no seeding)")
    parser.add_argument("--orgs", type=int, default=80_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)


def open_dataset(args, *, prefix: str, report_days: int = 400):
    """The engine of the dataset the options name, migrated and seeded unless --reuse."""
    from sqlalchemy import func, select

    from bot import migrate
    from bot.db import make_engine, recreate_schema
    from bot.models import Organization

    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix=prefix)}/bench.sqlite3"
    engine = make_engine(url)
    if not args.reuse:
        if args.reset and engine.dialect.name == "postgresql":
            recreate_schema(engine)
        migrate.upgrade(engine)
        with engine.connect() as conn:
            if conn.scalar(select(func.count(Organization.id))):
                sys.exit("the database already has organizations: use an empty one, --reset, or --reuse")
        print(f"{engine.dialect.name}: building {args.orgs:,} organizations and {args.reports:,} reports", flush=True)
        build(engine, args.orgs, args.reports, random.Random(args.seed), report_days=report_days)
    return engine



def time_digest(engine, kind: ScopeKind, code: str, label: str, *, weekly: bool = False) -> None:
    today = NOW.astimezone(TZ).date()
    period = digests.weekly_period(today) if weekly else digests.daily_period(today)
    with Session(engine) as session, use_locale("th"):
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            digest = digests.compute(session, kind, code, period, tz=TZ, locale="th", now=NOW)
            t1 = time.perf_counter()
            message = render(digest, weekly=weekly, locale="th")
            t2 = time.perf_counter()
            timings.append((t1 - t0, t2 - t1))
        best = min(timings)
        data = message.to_dict()["contents"]
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        print(f"{label:<22} queries {best[0] * 1000:8.1f} ms   render {best[1] * 1000:6.1f} ms   "
              f"{digest.reports:,} reports, {len(digest.provinces)} provinces, "
              f"{len(data['contents'])} bubbles, {size / 1024:.1f} KB (LINE: ≤ 12, ≤ 50 KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the PostgreSQL public schema first")
    parser.add_argument("--orgs", type=int, default=80_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='khabuan-digest-')}/bench.sqlite3"
    engine = make_engine(url)
    if args.reset and engine.dialect.name == "postgresql":
        recreate_schema(engine)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        if conn.scalar(select(func.count(Organization.id))):
            sys.exit("the database already has organizations: use an empty one (or --reset on PostgreSQL)")
    print(f"{engine.dialect.name}: building {args.orgs:,} organizations and {args.reports:,} reports", flush=True)
    build(engine, args.orgs, args.reports, random.Random(args.seed))
    time_digest(engine, ScopeKind.NATIONAL, "", "national digest")
    time_digest(engine, ScopeKind.PROVINCE, "50", "province digest (50)")
    time_digest(engine, ScopeKind.NATIONAL, "", "national weekly", weekly=True)
    engine.dispose()


if __name__ == "__main__":
    main()
