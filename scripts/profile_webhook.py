"""Where one webhook event's time goes: SQL statements per event and a cProfile, in one process.

    python scripts/profile_webhook.py [--events 200] [--database-url postgresql+psycopg://…/h_bench]

Run after scripts/bench_webhook.py (it uses that database: migrated, seeded, with its members).
Sends events one at a time through Flask's test client (no server, no concurrency) for the two
mixes of bench_webhook.py, counts the statements SQLAlchemy sends per event (by kind), and prints
the functions with the most cumulative time. Traffic goes to an in-process LINE emulator only.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.emulator import LineEmulator  # noqa: E402
from bot.emulator import events as ev  # noqa: E402
from bot.models import ConversationState, Member  # noqa: E402

SECRET, TOKEN = "bench-channel-secret", "bench-access-token"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="events per mix")
    parser.add_argument("--top", type=int, default=30, help="functions to show")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/h_bench"))
    args = parser.parse_args()

    emu = LineEmulator(access_token=TOKEN, strict=True).start()
    emu.quota_limit = None
    settings = load_settings({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                              "LINE_API_BASE_URL": emu.base_url, "DATABASE_URL": args.database_url,
                              "KHABUAN_INSTANCE_PATH": str(ROOT / "instance" / "bench-webhook"),
                              "BOT_QUIET_HOURS": "00:00-00:00"})
    app = create_app(settings)
    services = app.extensions["khabuan"]
    statements: list[str] = []

    @event.listens_for(services.engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)

    with services.session_factory() as db:
        states = dict(db.execute(select(Member.line_user_id, ConversationState.step)
                                 .join(ConversationState, ConversationState.member_id == Member.id)).all())
    members = sorted(states)
    if not members:
        raise SystemExit("no members mid-flow: run scripts/bench_webhook.py first (it fills the database)")
    client = app.test_client()

    def post(body: bytes) -> None:
        response = client.post("/callback", data=body, headers={
            "Content-Type": "application/json", "X-Line-Signature": ev.sign(body, SECRET)})
        assert response.status_code == 200, response.status_code

    def mix_a(i: int) -> bytes:
        uid = members[i % len(members)]
        text = "กลุ่มออมทรัพย์บ้านดอนตัวอย่าง" if states[uid] == "name" else "ย้อนกลับ"
        states[uid] = "org_type" if states[uid] == "name" else "name"
        return ev.encode_body(ev.callback_body([ev.text_event(uid, text, emu.issue_reply_token(uid))]))

    def mix_b(_i: int) -> bytes:
        uid = f"U{uuid.uuid4().hex}"
        return ev.encode_body(ev.callback_body([ev.follow_event(uid, emu.issue_reply_token(uid))]))

    for name, make in (("a: returning member, turn of a flow", mix_a), ("b: first-time user, follow", mix_b)):
        for i in range(10):  # warm caches, connections
            post(make(i))
        statements.clear()
        bodies = [make(i) for i in range(10, 10 + args.events)]
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        for body in bodies:
            post(body)
        profiler.disable()
        wall = time.perf_counter() - began
        kinds = Counter(re.match(r"\s*(\w+)", s).group(1).upper() for s in statements)
        tables = Counter(m.group(1) for s in statements
                         for m in [re.search(r"\bFROM (\w+)|\bINTO (\w+)|^UPDATE (\w+)", s)] if m and m.group(1))
        print(f"\n== mix {name}: {args.events} events, {wall / args.events * 1000:.1f} ms/event (one thread, "
              f"profiler on), {len(statements) / args.events:.1f} SQL statements/event")
        print("   by kind:", ", ".join(f"{k} {n / args.events:.1f}" for k, n in kinds.most_common()))
        print("   SELECT/… FROM:", ", ".join(f"{k} {n / args.events:.1f}" for k, n in tables.most_common(12)))
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:12000])
    services.gateway.close()
    services.engine.dispose()
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
