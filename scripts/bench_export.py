"""Benchmark: streamed exports (bot/exports.py) of 1,000,000 activity reports: time and peak memory.

    .venv/bin/python scripts/bench_export.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reset
    .venv/bin/python scripts/bench_export.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reuse
    .venv/bin/python scripts/bench_export.py --orgs 8000 --reports 100000     # SQLite, a quicker run

Seeds as scripts/bench_digest.py does (or reuses a seeded database, e.g. bench_console's), then
writes each export to a temporary file, chunk by chunk as a web response would, and prints the
time, the size, and the process's peak resident memory before and after (resource.getrusage):
flat memory means the peak barely moves however many rows are written.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench_digest import NOW, dataset_arguments, open_dataset  # noqa: E402
from bot import exports  # noqa: E402
from bot.models import ActivityReport  # noqa: E402
from bot.scopes import Scope  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(engine, kind: str, scope: Scope, fmt: str, personal: bool) -> None:
    before = peak_mb()
    t0 = time.perf_counter()
    size = 0
    with Session(engine) as session, tempfile.TemporaryFile() as out:
        result = exports.export(session, kind, scope, fmt=fmt, personal=personal, now=NOW)
        first = None
        for chunk in result.chunks:
            if first is None:
                first = time.perf_counter() - t0
            out.write(chunk)
            size += len(chunk)
    seconds = time.perf_counter() - t0
    print(f"{kind:<14} {str(scope):<12} {fmt:<5} {'personal' if personal else 'plain':<9} "
          f"{seconds:7.1f} s (first bytes after {first or 0:.2f} s)  {size / 2**20:8.1f} MB  "
          f"peak RSS {before:6.0f} → {peak_mb():6.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dataset_arguments(parser, verb="export")
    parser.add_argument("--formats", default="csv,xlsx", help="comma-separated: csv,xlsx")
    args = parser.parse_args()

    engine = open_dataset(args, prefix="khabuan-export-")
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(ActivityReport).where(ActivityReport.withdrawn_at.is_(None)))
    print(f"{engine.dialect.name}: {n:,} live reports; pid {os.getpid()}", flush=True)
    for fmt in args.formats.split(","):
        run(engine, "reports", Scope.NATIONAL, fmt, personal=True)
    run(engine, "organizations", Scope.NATIONAL, "csv", personal=True)
    run(engine, "reports", Scope.parse("province:50"), "xlsx", personal=False)
    engine.dispose()


if __name__ == "__main__":
    main()
