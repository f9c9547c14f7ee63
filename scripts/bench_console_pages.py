"""Benchmark: the web console's pages as a browser gets them, over 80,000 organizations and 1,000,000 reports.

    .venv/bin/python scripts/bench_console_pages.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reset
    .venv/bin/python scripts/bench_console_pages.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench --reuse
    .venv/bin/python scripts/bench_console_pages.py --orgs 8000 --reports 100000   # SQLite, a quicker run

Seeds as scripts/bench_console.py does (scripts/bench_digest.py's `build`, reports over 400 days),
signs in a national secretariat member (a session row, as a confirmed link makes), and times whole
requests through the app (routing, scope checks, queries, templates; best of three) for the
national scope, a region and a province: the overview (target: under 300 ms of server time on
PostgreSQL), its chart PNG, the organizations list, the reports list and the people page.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sqlalchemy.orm import Session  # noqa: E402

from bench_digest import NOW, dataset_arguments, open_dataset  # noqa: E402
from bot import signin  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.models import Member, Role  # noqa: E402
from bot.roles import grant  # noqa: E402

PAGES = ("/console/", "/console/chart.png", "/console/organizations", "/console/reports", "/console/people")
SCOPES = ("national", "region:north", "province:50")


def sign_in(engine) -> str:
    with Session(engine) as session, session.begin():
        member = Member(line_user_id="U" + secrets.token_hex(16), locale="th", active=True, full_name="bench",
                        registered_at=NOW, consent_at=NOW)
        session.add(member)
        session.flush()
        grant(session, member, Role.SECRETARIAT, "national")
        session.flush()
        return signin.start_session(session, member, datetime.now(timezone.utc), via="link")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dataset_arguments(parser, verb="time")
    args = parser.parse_args()

    engine = open_dataset(args, prefix="khabuan-pages-")
    token = sign_in(engine)
    engine.dispose()
    app = create_app(load_settings({"DATABASE_URL": engine.url.render_as_string(hide_password=False),
                                    "KHABUAN_INSTANCE_PATH": tempfile.mkdtemp(prefix="khabuan-pages-instance-")}))
    client = app.test_client()
    client.set_cookie("khabuan_console", token, path="/console")
    for scope in SCOPES:
        print(f"{scope}:")
        for page in PAGES:
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                response = client.get(f"{page}?scope={scope}")
                times.append(time.perf_counter() - t0)
                assert response.status_code == 200, (page, response.status_code)
            target = "   (target < 300 ms on PostgreSQL)" if page == "/console/" else ""
            print(f"  {page:<24} {min(times) * 1000:8.1f} ms{target}", flush=True)
    app.extensions["khabuan"].engine.dispose()


if __name__ == "__main__":
    main()
