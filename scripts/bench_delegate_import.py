"""Benchmark: `khabuan delegates import` of a full assembly (312 seats), then the same file again.

    .venv/bin/python scripts/bench_delegate_import.py                  # SQLite in a temporary file
    .venv/bin/python scripts/bench_delegate_import.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reset

Prints the time of each import (the issue asks for under 10 s); no assertion on time here or in
tests (tests/test_delegates_import.py checks what the import does, on any machine's speed).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot import migrate  # noqa: E402
from bot.db import make_engine, make_session_factory, recreate_schema  # noqa: E402
from bot.delegate_import import Row, import_delegates  # noqa: E402
from bot.models import Province, ProvinceGroup, Region, utcnow  # noqa: E402
from bot.seed import seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the schema first")
    parser.add_argument("--profile", action="store_true", help="print the 15 costliest functions")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = make_engine(url)
    if args.reset:
        recreate_schema(engine)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        seed(session)
    with sessions() as session:
        seats = [f"province:{c}" for c in session.scalars(select(Province.code).order_by(Province.code)) for _ in range(3)]
        seats += [f"group:{c}" for c in session.scalars(select(ProvinceGroup.code).order_by(ProvinceGroup.code)) for _ in range(2)]
        seats += [f"region:{c}" for c in session.scalars(select(Region.code).order_by(Region.code)) for _ in range(5)]
    rows = [Row(i + 2, f"ผู้แทน {i}", f"089{1000000 + i}", seat) for i, seat in enumerate(seats[:312])]
    for attempt in ("first import", "same file again"):
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        with sessions() as session, session.begin():
            if profiler:
                profiler.enable()
            report = import_delegates(session, rows, now=utcnow())
            if profiler:
                profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"{attempt}: {len(rows)} rows in {elapsed:.2f} s "
              f"({report.seated} seated, {report.invited} invited, {report.unchanged} unchanged)")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
    engine.dispose()


if __name__ == "__main__":
    main()
