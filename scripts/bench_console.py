"""Benchmark: the console overview's figures (bot/stats.py) over 80,000 organizations and 1,000,000 reports.

    .venv/bin/python scripts/bench_console.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reset
    .venv/bin/python scripts/bench_console.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reuse
    .venv/bin/python scripts/bench_console.py --orgs 8000 --reports 100000   # SQLite, a quicker run

Seeds as scripts/bench_digest.py does (its `build`), with the reports spread over 400 days so the
12-month chart has every month, then times each function of the overview, national and for one
province and one region (best of three), the overview in total, and the chart's PNG rendering.
The issue's target: the overview under 300 ms of server time on PostgreSQL.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sqlalchemy.orm import Session  # noqa: E402

from bench_digest import NOW, dataset_arguments, open_dataset  # noqa: E402
from bot import charts, stats  # noqa: E402
from bot.scopes import Scope  # noqa: E402


def best(fn, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def time_scope(engine, scope: Scope) -> None:
    with Session(engine) as session:
        print(f"{str(scope)}:")
        total = 0.0
        for name, fn in [
            ("monthly_activity", lambda: stats.monthly_activity(session, scope, now=NOW)),
            ("province_activity", lambda: stats.province_activity(session, scope, now=NOW)),
            ("silent_provinces", lambda: stats.silent_provinces(session, scope, now=NOW)),
            ("certification_waits", lambda: stats.certification_waits(session, scope, now=NOW)),
        ]:
            seconds, result = best(fn)
            total += seconds if name != "silent_provinces" else 0.0  # the overview reuses province_activity
            size = len(result) if isinstance(result, list) else result
            print(f"  {name:<22} {seconds * 1000:8.1f} ms   {size}")
        seconds, view = best(lambda: stats.overview(session, scope, now=NOW))
        print(f"  {'overview (all above)':<22} {seconds * 1000:8.1f} ms   (target < 300 ms on PostgreSQL)")
        seconds, png = best(lambda: charts.monthly_chart_png(view.months, locale="th", title="กิจกรรม 12 เดือน"))
        print(f"  {'chart PNG':<22} {seconds * 1000:8.1f} ms   {len(png) / 1024:.0f} KB (LINE preview ≤ 1 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dataset_arguments(parser, verb="time")
    args = parser.parse_args()

    engine = open_dataset(args, prefix="khabuan-console-")
    for scope in (Scope.NATIONAL, Scope.parse("region:north"), Scope.parse("province:50")):
        time_scope(engine, scope)
    engine.dispose()


if __name__ == "__main__":
    main()
