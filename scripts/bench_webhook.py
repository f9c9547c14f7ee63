"""Benchmark: webhook throughput of Khabuan against a bare line-bot-sdk echo bot, same server settings.

    python scripts/bench_webhook.py [--seconds 10] [--concurrency 32 64] [--workers 2] [--threads 8]
                                    [--worker-class gthread] [--members 512] [--mix a b]

What it does (all traffic to 127.0.0.1; stops by itself and stops what it started):
- the LINE emulator (bot.emulator.LineEmulator, strict: every reply is validated against LINE's
  OpenAPI spec) in a process of its own, so it does not share a GIL with the load client; reply
  tokens are issued by it (over a pipe) for every event, so every reply must succeed;
- a PostgreSQL database (default h_bench; schema reset) migrated and seeded by
  `khabuan db upgrade && khabuan seed`;
- two servers under the SAME gunicorn settings (the Procfile's `--workers 2 --threads 8`, gthread by
  default), side by side with their cells alternating (fair under background load), both pointing LINE_API_BASE_URL at the emulator:
    echo     scripts/echo_bot.py: verify, parse, reply (no database) — the floor;
    khabuan  bot.app:create_app();
- a closed loop of signed webhook POSTs, `--concurrency` in flight, `--seconds` per cell, two mixes:
    a  returning members mid-conversation: `--members` registered members (rows inserted, then each
       says "ลงทะเบียนองค์กร" once in a warm-up) alternately answer the org-name step and say
       "ย้อนกลับ" (back), so every event is a turn of a flow that loads and saves its state;
    b  first-time users: a fresh user id per event, sending a follow event.
  A virtual user is owned by one client thread, so it never has two events in flight.
- first, the emulator's own ceiling: the same closed loop POSTing replies straight to it.

Prints, per cell, events/s, p50/p99 latency, non-200 answers and the replies the emulator accepted,
then the ratio Khabuan/echo. No assertion on speed: figures depend on the machine (count its cores:
client, emulator, servers and PostgreSQL share them).
`--py-spy DIR` records every Khabuan cell with py-spy (all workers) to DIR/<mix>-<c>-<round>.txt (collapsed stacks;
`--py-spy-format flamegraph` for .svg).
`--env KEY=VALUE` passes extra environment to both servers (e.g. variants to compare).
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-channel-secret"
TOKEN = "bench-access-token"
ORG_NAME = "กลุ่มออมทรัพย์บ้านดอนตัวอย่าง"
BACK = "ย้อนกลับ"
START_ORG = "ลงทะเบียนองค์กร"


# ---- the emulator, in its own process ------------------------------------------------------

def _emulator_main(conn) -> None:
    """Serve the emulator and answer the parent's commands until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us; Ctrl-C goes to it
    from bot.emulator import LineEmulator

    emu = LineEmulator(access_token=TOKEN, strict=True)
    emu.quota_limit = None
    emu.reply_token_ttl = 600.0
    emu.start()
    conn.send(emu.base_url)
    while True:
        try:
            command, arg = conn.recv()
        except EOFError:
            break
        if command == "tokens":
            conn.send([emu.issue_reply_token(uid) for uid in arg])
        elif command == "stats":  # what it received since the last reset, then reset
            requests = emu.requests
            counts = Counter(f"{r.method} {r.path.split('/')[3] if r.path.count('/') >= 3 else r.path} {r.status}"
                             for r in requests)
            violations = [f"{r.method} {r.path}: {r.errors}" for r in requests if r.violation][:5]
            emu.reset()
            conn.send((dict(counts), sum(1 for r in requests if r.violation), violations))
        elif command == "stop":
            break
    emu.stop()
    conn.close()


class Emulator:
    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_emulator_main, args=(child,), name="line-emulator", daemon=True)
        self._proc.start()
        self.base_url: str = self._conn.recv()
        self.pid = self._proc.pid
        self._lock = threading.Lock()

    def tokens(self, uids: list[str]) -> list[str]:
        with self._lock:
            self._conn.send(("tokens", uids))
            return self._conn.recv()

    def stats(self) -> tuple[dict[str, int], int, list[str]]:
        with self._lock:
            self._conn.send(("stats", None))
            return self._conn.recv()

    def stop(self) -> None:
        try:
            with self._lock:
                self._conn.send(("stop", None))
        except OSError:
            pass
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


# ---- database ---------------------------------------------------------------------------

def prepare_database(url: str, env: dict[str, str]) -> None:
    """Create the database if needed, reset its schema, then `khabuan db upgrade && khabuan seed`."""
    import psycopg

    from bot.db import make_engine, recreate_schema

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    recreate_schema(engine)
    engine.dispose()
    khabuan = str(Path(sys.executable).parent / "khabuan")
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([khabuan, *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def insert_members(url: str, n: int) -> list[str]:
    """N registered members (consent given, name, phone, province): returning users."""
    from sqlalchemy import insert, select

    from bot.db import make_engine, make_session_factory
    from bot.models import Member, Province, utcnow

    engine = make_engine(url)
    uids = [f"U{n:032x}" for n in range(1, n + 1)]
    with make_session_factory(engine)() as db, db.begin():
        provinces = list(db.scalars(select(Province.id).order_by(Province.id)))
        now = utcnow() - timedelta(days=30)
        db.execute(insert(Member), [
            {"line_user_id": uid, "display_name": f"bench {i}", "full_name": f"สมาชิก ทดสอบ{i}",
             "phone": "0812345678", "province_id": provinces[i % len(provinces)], "locale": "th",
             "consent_at": now, "registered_at": now, "active": True} for i, uid in enumerate(uids)])
    engine.dispose()
    return uids


def flow_states(url: str) -> Counter:
    from sqlalchemy import select

    from bot.db import make_engine, make_session_factory
    from bot.models import ConversationState

    engine = make_engine(url)
    with make_session_factory(engine)() as db:
        steps = Counter(f"{f}:{s}" for f, s in db.execute(select(ConversationState.flow, ConversationState.step)))
    engine.dispose()
    return steps


# ---- servers ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app: str, chdir: Path, env: dict[str, str], args: argparse.Namespace, log: Path) -> tuple[
        subprocess.Popen[bytes], int]:
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    # The log goes to a file: a pipe nobody reads fills up and then blocks every logging call.
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), app, "--chdir", str(chdir),
             "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--threads", str(args.threads),
             "--worker-class", args.worker_class, "--timeout", "30", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn {app} exited; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"gunicorn {app} did not become healthy within 60 s; see {log}")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User+system CPU seconds of each of these processes so far (those gone are left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    spent = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            spent[pid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return spent


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


class CpuMeter:
    """CPU seconds each party spent during a cell: server (master+workers), emulator, PostgreSQL, client."""

    def __init__(self, server: int | None, emulator: int) -> None:
        self.groups = {"server": lambda: [server, *worker_pids(server)] if server else [],
                       "emulator": lambda: [emulator], "postgres": postgres_pids, "client": lambda: [os.getpid()]}

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {name: cpu_seconds(f()) for name, f in self.groups.items()}

    @staticmethod
    def per_event(before: dict, after: dict, events: int) -> str:
        # Only processes alive at both ends count: a PostgreSQL backend that ended in between (another
        # client's) takes its CPU time with it, and one that started is mostly someone else's.
        parts = []
        for name in before:
            spent = sum(after[name][pid] - before[name][pid] for pid in after[name] if pid in before[name])
            parts.append(f"{name} {spent / max(events, 1) * 1000:.1f}")
        return "CPU ms/event: " + ", ".join(parts)


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


# ---- load -------------------------------------------------------------------------------

@dataclass
class Cell:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    wall: float = 0.0

    def line(self) -> str:
        ordered = sorted(self.latencies)
        if not ordered:
            return "no requests completed"
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        bad = sum(n for s, n in self.statuses.items() if s != 200)
        return (f"{self.rps:8.0f} ev/s  p50 {statistics.median(ordered) * 1000:7.1f} ms  "
                f"p99 {p99 * 1000:7.1f} ms  n={len(ordered)} non-200={bad}")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


class Users:
    """Who sends what: each client thread owns its users and their place in the conversation."""

    def __init__(self, mix: str, members: list[str], concurrency: int) -> None:
        self.mix = mix
        self.owned = [members[i::concurrency] for i in range(concurrency)] if mix == "a" else None
        self.turn: dict[str, int] = {}

    def next_events(self, emulator: Emulator, thread: int, batch: int) -> list:
        """The thread's next events, as thunks: a turn counts only once its body is built and sent."""
        from bot.emulator import events as ev

        if self.mix == "b":
            uids = [f"U{uuid.uuid4().hex}" for _ in range(batch)]
            return [lambda u=u, t=t: ev.encode_body(ev.callback_body([ev.follow_event(u, t)]))
                    for u, t in zip(uids, emulator.tokens(uids))]
        assert self.owned is not None
        mine = self.owned[thread]
        uids = [mine[i % len(mine)] for i in range(batch)]

        def body(uid: str, tok: str) -> bytes:
            n = self.turn.get(uid, 0)
            self.turn[uid] = n + 1
            text = ORG_NAME if n % 2 == 0 else BACK
            return ev.encode_body(ev.callback_body([ev.text_event(uid, text, tok)]))

        return [lambda u=u, t=t: body(u, t) for u, t in zip(uids, emulator.tokens(uids))]


def drive(port: int, path: str, concurrency: int, seconds: float, make_batch, headers_for) -> Cell:
    """A closed loop: `concurrency` threads, each POSTing its next body as soon as the last returns.

    make_batch(thread) returns the thread's next bodies (or thunks making them), [] when it has no
    more; one user's turns stay ordered because a user belongs to one thread.
    """
    cell = Cell()
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def run(thread: int) -> None:
        conn: http.client.HTTPConnection | None = None
        queue: list[bytes] = []
        mine: list[float] = []
        statuses: Counter = Counter()
        start.wait()
        while time.perf_counter() < deadline[0]:
            if not queue:
                queue = make_batch(thread)
                if not queue:
                    break
            body = queue.pop(0)
            if callable(body):
                body = body()
            headers = headers_for(body)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None
                status = 0
            mine.append(time.perf_counter() - began)
            statuses[status] += 1
        with lock:
            cell.latencies += mine
            cell.statuses.update(statuses)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(seconds + 90)
    cell.wall = time.perf_counter() - began
    return cell


def emulator_ceiling(emulator: Emulator, concurrency: int, seconds: float) -> Cell:
    """Replies POSTed straight to the emulator: how many a second it can take at all."""
    import json

    url = urlsplit(emulator.base_url)

    def batch(thread: int) -> list[bytes]:
        uids = [f"U{thread:032x}"] * 32
        return [json.dumps({"replyToken": t, "messages": [{"type": "text", "text": ORG_NAME}]},
                           ensure_ascii=False).encode() for t in emulator.tokens(uids)]

    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    return drive(url.port, "/v2/bot/message/reply", concurrency, seconds, batch, lambda _b: auth)


def median_cell(cells: list[Cell] | None) -> Cell | None:
    """The round with the median throughput."""
    if not cells:
        return None
    return sorted(cells, key=lambda cell: cell.rps)[len(cells) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each cell (default 10)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 64],
                        help="requests in flight, one cell each (default 32 64)")
    parser.add_argument("--mix", nargs="+", choices=["a", "b"], default=["a", "b"],
                        help="a: returning members mid-flow; b: first-time users (follow)")
    parser.add_argument("--targets", nargs="+", choices=["echo", "khabuan"], default=["echo", "khabuan"])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (Procfile: 2)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (Procfile: 8)")
    parser.add_argument("--worker-class", default="gthread",
                        help="gunicorn worker class (gthread, sync; sync needs --threads 1)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="cells per (mix, concurrency) and server, alternating; the median (upper, for an even count) is compared")
    parser.add_argument("--members", type=int, default=512, help="returning members for mix a")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for both servers (repeatable)")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="record each Khabuan cell with py-spy into DIR")
    parser.add_argument("--py-spy-format", choices=["raw", "flamegraph"], default="raw",
                        help="raw: collapsed stacks (.txt); flamegraph: .svg")
    parser.add_argument("--skip-ceiling", action="store_true", help="do not measure the emulator's own ceiling")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/h_bench"))
    args = parser.parse_args()
    if not urlsplit(args.database_url.replace("postgresql+psycopg", "postgresql")).hostname in ("127.0.0.1", "localhost"):
        parser.error("the database must be on 127.0.0.1")
    if args.members < max(args.concurrency):
        parser.error("--members must be at least the largest --concurrency (one user per thread at least)")

    from bot.emulator import events as ev

    def sign(body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json", "X-Line-Signature": ev.sign(body, SECRET)}

    emulator = Emulator()
    servers: list[subprocess.Popen[bytes]] = []
    results: dict[tuple[str, str, int], list[Cell]] = {}
    try:
        print(f"LINE emulator at {emulator.base_url} (own process); {os.cpu_count()} CPUs on this machine",
              flush=True)
        env = {**os.environ, "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
               "LINE_API_BASE_URL": emulator.base_url, "DATABASE_URL": args.database_url,
               "KHABUAN_INSTANCE_PATH": str(ROOT / "instance" / "bench-webhook"),
               "BOT_QUIET_HOURS": "00:00-00:00"}
        env.update(dict(kv.split("=", 1) for kv in args.env))
        print(f"gunicorn: {args.workers} workers × {args.threads} threads, {args.worker_class}; "
              f"{args.seconds:g} s per cell", flush=True)
        if not args.skip_ceiling:
            for c in args.concurrency:
                meter = CpuMeter(None, emulator.pid)
                before = meter.snapshot()
                cell = emulator_ceiling(emulator, c, args.seconds)
                after = meter.snapshot()
                emulator.stats()
                print(f"  emulator alone (replies)   c={c:<3} {cell.line()}", flush=True)
                print(f"      {meter.per_event(before, after, len(cell.latencies))}", flush=True)

        members: list[str] = []
        if "khabuan" in args.targets or "a" in args.mix:
            print(f"preparing {args.database_url}: khabuan db upgrade && khabuan seed …", flush=True)
            prepare_database(args.database_url, env)
            members = insert_members(args.database_url, args.members)
        log_dir = ROOT / "instance" / "bench-webhook"
        # Both servers run side by side and their cells alternate (echo, khabuan, echo, …): on a
        # shared machine the background load then weighs on both alike. An idle server costs nothing.
        ports, meters = {}, {}
        for target in args.targets:
            if target == "echo":
                proc, port = start_gunicorn("echo_bot:app", ROOT / "scripts", env, args, log_dir / "echo.log")
            else:
                proc, port = start_gunicorn("bot.app:create_app()", ROOT, env, args, log_dir / "khabuan.log")
            servers.append(proc)
            ports[target], meters[target] = port, (proc, CpuMeter(proc.pid, emulator.pid))
        for mix in args.mix:
            users = {target: Users(mix, members, max(args.concurrency)) for target in args.targets}
            if mix == "a":  # warm-up: each member opens the org registration flow
                for target in args.targets:
                    it = iter([ev.encode_body(ev.callback_body([ev.text_event(uid, START_ORG, tok)]))
                               for uid, tok in zip(members, emulator.tokens(members))])
                    it_lock = threading.Lock()

                    def warm(_thread: int, it=it, it_lock=it_lock) -> list[bytes]:
                        with it_lock:
                            body = next(it, None)
                        return [body] if body is not None else []
                    drive(ports[target], "/callback", 16, 120.0, warm, sign)
                    emulator.stats()
                    if target == "khabuan":
                        print(f"  warm-up: conversation states {dict(flow_states(args.database_url))}", flush=True)
            for c in args.concurrency:
                for rnd in range(args.rounds):
                    for target in args.targets:
                        proc, meter = meters[target]
                        spy = None
                        if args.py_spy and target == "khabuan":
                            args.py_spy.mkdir(parents=True, exist_ok=True)
                            spy = subprocess.Popen(
                                [shutil.which("py-spy") or "py-spy", "record", "--pid", str(proc.pid),
                                 "--subprocesses", "--duration", str(int(args.seconds)), "--rate", "200",
                                 "--format", args.py_spy_format, "--nonblocking", "-o",
                                 str(args.py_spy / f"{mix}-{c}-{rnd}.{'txt' if args.py_spy_format == 'raw' else 'svg'}")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        # Users keep their turn between cells; a user belongs to one thread.
                        before = meter.snapshot()
                        cell = drive(ports[target], "/callback", c, args.seconds,
                                     lambda t, u=users[target]: u.next_events(emulator, t, 8 if u.mix == "a" else 32),
                                     sign)
                        after = meter.snapshot()
                        if spy is not None:
                            spy.wait(timeout=args.seconds + 60)
                        counts, violations, examples = emulator.stats()
                        results.setdefault((target, mix, c), []).append(cell)
                        replies = sum(n for k, n in counts.items() if k.startswith("POST message") and k.endswith("200"))
                        calls = ", ".join(f"{k}×{n}" for k, n in sorted(counts.items()))
                        print(f"  {target:7} mix {mix} c={c:<3} {cell.line()}  replies ok {replies}", flush=True)
                        print(f"      LINE calls: {calls}; violations {violations} {examples}", flush=True)
                        print(f"      {meter.per_event(before, after, len(cell.latencies))}", flush=True)
    finally:
        for proc in servers:
            stop(proc)
        emulator.stop()

    if "echo" in args.targets and "khabuan" in args.targets:
        print(f"Khabuan / echo (median of {args.rounds} round(s) each):")
        for mix in args.mix:
            for c in args.concurrency:
                e, k = median_cell(results.get(("echo", mix, c))), median_cell(results.get(("khabuan", mix, c)))
                if e and k and e.rps and e.latencies and k.latencies:
                    p50 = statistics.median(k.latencies) / statistics.median(e.latencies)
                    print(f"  mix {mix} c={c:<3} echo {e.rps:6.0f} ev/s, khabuan {k.rps:6.0f} ev/s: "
                          f"throughput {k.rps / e.rps:5.2f}×, p50 latency {p50:5.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
