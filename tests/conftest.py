"""Fixtures: the app on SQLite (or PostgreSQL with TEST_DATABASE_URL), the LINE emulator, and `chat`.

Every test talks to the bot the way LINE does — signed webhook POSTs — and
reads what the bot sent from the emulator, which validates each request
against LINE's OpenAPI spec and limits. Any rejected request fails the test.
"""
from __future__ import annotations

import os
from datetime import datetime

import pytest
import time_machine
from hypothesis import settings as hypothesis_settings
from click.testing import CliRunner
from sqlalchemy import text

from bot import migrate
from bot.app import create_app
from bot.cli import main
from bot.config import load_settings
from bot.db import make_engine, recreate_schema
from bot.emulator import LineEmulator
from bot.models import Base
from bot.seed import seed

from . import clock
from .chat import Chat

# Property tests check what is true, not how fast: a shared CI machine under load made Hypothesis's
# 200 ms per-example deadline fail a correct test (tests/test_thai.py, 265 ms on PostgreSQL's run).
hypothesis_settings.register_profile("khabuan", deadline=None)
hypothesis_settings.load_profile("khabuan")

SECRET = "test-channel-secret"
TOKEN = "test-access-token"
REFERENCE_TABLES = {"regions", "province_groups", "provinces", "strategic_issues", "alembic_version"}


def pytest_addoption(parser):
    parser.addoption("--clock", default=os.environ.get("KHABUAN_TEST_CLOCK") or None,
                     help="run the whole suite with the wall clock moved: month-end, quiet-hours, "
                          "or an ISO moment with offset (see tests/clock.py)")


def pytest_configure(config):
    moment = config.getoption("--clock")
    if moment:
        when = clock.resolve(moment, today=datetime.now(clock.BANGKOK).date())
        config._khabuan_clock = clock.MovedClock(when)
        config._khabuan_clock.start()


def pytest_unconfigure(config):
    moved = getattr(config, "_khabuan_clock", None)
    if moved is not None:
        moved.stop()


@pytest.fixture(autouse=True)
def _real_clock_for_other_processes(request):
    """Tests that start other processes see the real clock: the moved one cannot reach a child."""
    moved = getattr(request.config, "_khabuan_clock", None)
    if moved is None or request.node.get_closest_marker("real_clock") is None:
        yield
        return
    moved.stop()
    try:
        yield
    finally:
        moved.start()


def pytest_report_header(config):
    moment = config.getoption("--clock")
    if moment:
        return f"clock moved to {datetime.now(clock.BANGKOK).isoformat(timespec='minutes')} ({moment})"
    return None


@pytest.fixture
def clock_at():
    """The clock stopped at clock.FROZEN_NOW; the test may move it (`clock_at.move_to(moment)`)."""
    with time_machine.travel(clock.FROZEN_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def frozen_now(clock_at) -> datetime:
    """The clock stopped at a mid-month weekday, 10:00 Bangkok (tests/clock.py); returns that moment."""
    return clock.FROZEN_NOW


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = make_engine(url)
        recreate_schema(engine)  # a clean schema for every run
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'khabuan.sqlite3'}"


@pytest.fixture(scope="session")
def migrated(database_url):
    """Schema built by the real migrations (not create_all), and reference data seeded once."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            seed(session)
            session.flush()
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def emulator():
    emu = LineEmulator(access_token=TOKEN, strict=True)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def settings(database_url, emulator, tmp_path):
    return load_settings({
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": emulator.base_url,
        "DATABASE_URL": database_url,
        "KHABUAN_INSTANCE_PATH": str(tmp_path / "instance"),
        # No quiet hours unless a test sets them (and freezes the clock): pushes queued by a test
        # must not depend on the hour the suite runs at.
        "BOT_QUIET_HOURS": "00:00-00:00",
    })


def _clean(engine) -> None:
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    # Deleting reports (SQLite) fires the triggers that keep activity_day_totals: empty it last.
    tables.sort(key=lambda t: t.name == "activity_day_totals")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app(migrated, settings, emulator):
    _clean(migrated)
    emulator.reset()
    # Settings survive reset(); a test that changes them must not change the next one.
    emulator.quota_limit, emulator.delay, emulator.auto_profiles = 500, 0.0, True
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    services = application.extensions["khabuan"]
    services.gateway.close()
    services.engine.dispose()
    violations = [f"{r.method} {r.path}: {r.errors}" for r in emulator.violations]
    assert not violations, "LINE would have rejected:\n" + "\n".join(violations)


@pytest.fixture
def services(app):
    return app.extensions["khabuan"]


@pytest.fixture
def chat(app, emulator) -> Chat:
    return Chat(app, emulator, SECRET)


@pytest.fixture
def cli(app, settings, monkeypatch):
    """Run `khabuan ARGS...` against the test app's database and the emulator: cli("seed")."""
    monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("LINE_API_BASE_URL", settings.line_api_base_url)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KHABUAN_INSTANCE_PATH", str(settings.instance_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def db(services):
    """A session for arranging and inspecting data directly."""
    with services.session_factory() as session:
        yield session


