"""Benchmark: N delegates (default 10,000) vote through the running web app.

    .venv/bin/python scripts/bench_vote.py [--delegates 10000] [--concurrency 64] [--workers 2]

What it does, end to end, like production:
- a PostgreSQL database of its own (default khabuan_bench; created if missing, schema reset),
  migrated and seeded by the real migrations;
- the LINE emulator in a process of its own (LINE's API for the bot: replies go there and are validated);
- gunicorn serving bot.app:create_app() (gthread workers), as in the Procfile;
- N delegates with seats, one secret agenda item opened (ballots queued in the outbox);
- every delegate taps a ballot button: a signed webhook POST per vote, `--concurrency` at a time,
  plus `--duplicates` of them sent twice (LINE redelivery: same webhookEventId). The item cannot be
  changed once voted (the default), so the tap sent is the confirming one (x=1): the question
  before it reads and writes nothing a vote depends on.
Prints votes per second, p50/p99 webhook latency, and whether the tally equals the ground truth.
No assertion on speed: the figures depend on the machine. Exit status 1 if the tally is wrong.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bot import assembly, migrate  # noqa: E402
from bot.db import make_engine, make_session_factory, recreate_schema  # noqa: E402
from bot.emulator import events as ev  # noqa: E402
from bot.models import (  # noqa: E402
    AgendaItem,
    AssemblySession,
    Member,
    Province,
    Role,
    RoleGrant,
    ScopeKind,
    Vote,
    utcnow,
)
from bot.seed import seed  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from bench_webhook import Emulator  # noqa: E402  (the emulator in a process of its own)

SECRET = "bench-channel-secret"
TOKEN = "bench-access-token"


def server_cpu_seconds(master: int) -> float:
    """User+system CPU seconds so far of gunicorn's master and its workers (the same as in
    bench_webhook.py): CPU per vote is the figure that stays put on a machine shared with others."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        pids = [master, *map(int, Path(f"/proc/{master}/task/{master}/children").read_text().split())]
    except OSError:
        return 0.0
    spent = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            spent += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return spent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str) -> None:
    """Create the bench database if needed and give it a clean, migrated, seeded schema."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    recreate_schema(engine)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as session, session.begin():
        seed(session)
    engine.dispose()


def arrange(url: str, delegates: int, tz_name: str) -> tuple[str, list[str]]:
    """N delegates (province seats, round robin) and one open secret item; returns its token and the ids."""
    from zoneinfo import ZoneInfo

    engine = make_engine(url)
    factory = make_session_factory(engine)
    user_ids = [f"U{n:032x}" for n in range(delegates)]
    with factory() as db, db.begin():
        provinces = list(db.scalars(select(Province.code).order_by(Province.code)))
        for start in range(0, delegates, 2000):
            chunk = user_ids[start:start + 2000]
            db.execute(insert(Member), [{"line_user_id": uid, "full_name": f"ผู้แทน {start + i}", "locale": "th",
                                         "active": True} for i, uid in enumerate(chunk)])
        ids = dict(db.execute(select(Member.line_user_id, Member.id)).all())
        db.execute(insert(RoleGrant), [
            {"member_id": ids[uid], "role": Role.DELEGATE, "scope_kind": ScopeKind.PROVINCE,
             "scope_code": provinces[n % len(provinces)]} for n, uid in enumerate(user_ids)])
        now = utcnow()
        item = AgendaItem(session=AssemblySession(name="สมัชชาทดสอบสมรรถนะ", held_on=now.date(), place="-"),
                          title="วาระทดสอบสมรรถนะ", token=assembly.new_token(), secret=True,
                          abstain_index=assembly.DEFAULT_ABSTAIN, opens_at=now, closes_at=now + timedelta(hours=2))
        db.add(item)
        db.flush()
        opened = assembly.open_item(db, item, now, ZoneInfo(tz_name))
        assert opened is not None and opened.ballots == delegates
        token = item.token
    engine.dispose()
    return token, user_ids


def start_gunicorn(port: int, env: dict[str, str], workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    # The server's log goes to a file: a pipe nobody reads fills up, and then every logging call in
    # the app blocks (with the logging lock held) and the whole server stops.
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "bot.app:create_app()", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not become healthy within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delegates", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (Procfile: 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of events LINE redelivers")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/khabuan_bench"))
    args = parser.parse_args()

    print(f"preparing {args.database_url} …", flush=True)
    prepare_database(args.database_url)
    # In a process of its own (bench_webhook.Emulator), not sharing a GIL with the 64 client threads:
    # validating each reply against LINE's spec costs it ~2-3 ms of CPU. Its reply tokens live 600 s.
    emulator = Emulator()
    token, user_ids = arrange(args.database_url, args.delegates, "Asia/Bangkok")
    rng = random.Random(2569)
    truth = {uid: rng.choice([0, 0, 0, 1, 1, 2]) for uid in user_ids}

    port = free_port()
    env = {**os.environ, "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_API_BASE_URL": emulator.base_url, "DATABASE_URL": args.database_url,
           "KHABUAN_INSTANCE_PATH": str(ROOT / "instance" / "bench")}
    log = ROOT / "instance" / "bench" / "gunicorn.log"
    print(f"starting gunicorn ({args.workers} workers × {args.threads} threads) on :{port}, log {log} …", flush=True)
    server = start_gunicorn(port, env, args.workers, args.threads, log)

    bodies: list[bytes] = []
    first, second = (dict(zip(user_ids, emulator.tokens(user_ids))) for _ in range(2))
    for uid, option in truth.items():
        event = ev.postback_event(uid, f"a=vote&b={token}&o={option}&x=1", first[uid])
        bodies.append(ev.encode_body(ev.callback_body([event])))
        if rng.random() < args.duplicates:
            again = ev.redeliver(event)
            again["replyToken"] = second[uid]
            bodies.append(ev.encode_body(ev.callback_body([again])))
    rng.shuffle(bodies)

    local = threading.local()
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def post(body: bytes) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json", "X-Line-Signature": ev.sign(body, SECRET)}
        started = time.perf_counter()
        try:
            conn.request("POST", "/callback", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            local.conn = None
            status = 0
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if status != 200:
                failures.append(status)

    print(f"{len(bodies)} webhook events ({len(bodies) - len(truth)} redeliveries), "
          f"{args.concurrency} at a time …", flush=True)
    began = time.perf_counter()
    cpu_before = server_cpu_seconds(server.pid)
    try:
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(post, bodies))
        wall = time.perf_counter() - began
        server_cpu = server_cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        emulator.stop()

    engine = make_engine(args.database_url)
    with make_session_factory(engine)() as db:
        item = db.scalar(select(AgendaItem).where(AgendaItem.token == token))
        counts = assembly.tally(db, item).counts
        rows = db.scalar(select(func.count()).select_from(Vote).where(Vote.item_id == item.id))
    engine.dispose()
    expected = [sum(1 for o in truth.values() if o == i) for i in range(3)]
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"votes/s (events/s incl. redeliveries): {len(truth) / wall:,.0f} ({len(bodies) / wall:,.0f})")
    print(f"webhook latency p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
          f"(wall {wall:.1f} s)")
    print(f"server CPU per event: {server_cpu / len(bodies) * 1000:.1f} ms (gunicorn master and workers)")
    print(f"non-200 responses: {len(failures)}")
    ok = counts == expected and rows == len(truth) and not failures
    print(f"tally {counts} vs ground truth {expected}, {rows} vote rows: {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
