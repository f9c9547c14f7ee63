"""Benchmark: one reminder to 100,000 leaders, from the outbox through the LINE emulator.

    .venv/bin/python scripts/bench_delivery.py                       # SQLite in a temporary file
    .venv/bin/python scripts/bench_delivery.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reset
    .venv/bin/python scripts/bench_delivery.py --leaders 10000       # compare peak memory with 100,000

Members are inserted with Core executemany in chunks, the reminder is queued by streaming
their ids into 500-recipient multicast rows (enqueue_users), and the sender drains the outbox
batch by batch. The emulator runs in a child process so the memory figures are the sender's
alone: "peak traced" (tracemalloc, during sending) must not grow with the number of leaders.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bot import migrate, ui  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.db import make_engine, make_session_factory, recreate_schema  # noqa: E402
from bot.delivery import Sender, enqueue_users  # noqa: E402
from bot.line import LineGateway  # noqa: E402
from bot.models import Member, OutboxMessage, OutboxStatus, Priority, utcnow  # noqa: E402

TOKEN = "bench-access-token"
CHUNK = 5000
EMULATOR = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from bot.emulator import LineEmulator
emu = LineEmulator(access_token={TOKEN!r}, strict=True)
emu.quota_limit = None
emu.start()
print(emu.base_url, flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
"""


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", EMULATOR], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def insert_leaders(engine, count: int) -> None:
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, count, CHUNK):
            conn.execute(insert(Member), [
                {"line_user_id": f"U{n:032x}", "locale": "th", "active": True, "registered_at": now,
                 "consent_at": now, "created_at": now, "updated_at": now}
                for n in range(start, min(start + CHUNK, count))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the PostgreSQL public schema first")
    parser.add_argument("--leaders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=50, help="outbox rows leased per pass")
    parser.add_argument("--rate", type=float, default=100.0, help="requests/second per endpoint")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    engine = make_engine(url)
    if args.reset and engine.dialect.name == "postgresql":
        recreate_schema(engine)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(Member)):
            sys.exit("the database already has members: use an empty one (or --reset on PostgreSQL)")

    emulator, base_url = start_emulator()
    try:
        settings = load_settings({
            "LINE_CHANNEL_SECRET": "bench-secret", "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE_URL": base_url, "DATABASE_URL": url, "KHABUAN_INSTANCE_PATH": tmp.name,
            "BOT_QUIET_HOURS": "00:00-00:00",  # measure sending, whatever the hour
        })
        factory = make_session_factory(engine)

        started = time.perf_counter()
        insert_leaders(engine, args.leaders)
        inserted = time.perf_counter()

        reminder = ui.text("อย่าลืมส่งรายงานกิจกรรมประจำเดือนนะคะ")
        with engine.connect() as reader, factory() as session, session.begin():
            ids = reader.execution_options(stream_results=True, yield_per=CHUNK).execute(
                select(Member.line_user_id).where(Member.registered_at.is_not(None)).order_by(Member.id))
            rows = enqueue_users(session, (user_id for (user_id,) in ids), [reminder], now=utcnow(),
                                 kind="reminder", priority=Priority.LOW, dedupe_key="bench:reminder")
        queued = time.perf_counter()

        gateway = LineGateway(settings)
        sender = Sender(factory, gateway, settings, rate_per_second=args.rate)
        requests = delivered = 0
        tracemalloc.start()
        send_started = time.perf_counter()
        while (stats := sender.deliver(limit=args.batch)).claimed:
            requests += stats.requests
            delivered += stats.delivered
        send_done = time.perf_counter()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gateway.close()

        with factory() as session:
            sent_to = session.scalar(select(func.coalesce(func.sum(OutboxMessage.cost), 0))
                                     .where(OutboxMessage.status == OutboxStatus.SENT))
            left = session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status != OutboxStatus.SENT))
    finally:
        assert emulator.stdin is not None
        emulator.stdin.close()
        emulator.wait(timeout=10)
        engine.dispose()

    sending = send_done - send_started
    print(f"database            {engine.dialect.name}")
    print(f"leaders             {args.leaders:,}")
    print(f"insert members      {inserted - started:.2f} s")
    print(f"queue reminder      {queued - inserted:.2f} s ({rows} outbox rows)")
    print(f"send                {sending:.2f} s")
    print(f"wall time           {send_done - started:.2f} s")
    print(f"requests made       {requests:,} ({delivered:,} rows delivered, {left} not sent)")
    print(f"messages delivered  {sent_to:,}")
    print(f"messages / second   {sent_to / sending:,.0f} (sending phase)")
    print(f"peak traced memory  {peak / 1024 / 1024:.1f} MiB while sending (tracemalloc)")
    print(f"peak RSS            {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB (whole run)")
    if sent_to != args.leaders or left:
        sys.exit("not every leader got the reminder")


if __name__ == "__main__":
    main()
