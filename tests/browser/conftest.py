"""Browser tests: the simulator page in real headless Chromium, driven by Playwright.

They need Debian's `chromium` (`apt-get install chromium`; `.ci/run` installs it) and the
`playwright` package (the test extra). Playwright's own browser download is never used: the
tests launch the system Chromium by path. Without either, every test here is skipped, saying why.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from bot import richmenu
from bot.app import create_app
from bot.config import load_settings
from bot.worker import Worker, WorkerOptions
from bot.emulator import LineEmulator
from bot.schedule import build_registry

from ..conftest import SECRET, TOKEN, _clean

CHROMIUM = os.environ.get("KHABUAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests skipped: the playwright package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).is_file():
        return f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Live:
    url: str
    app: Flask
    emulator: LineEmulator
    deliberate_violations: int = 0  # bad requests a test made on purpose, to see them shown in red


@pytest.fixture(scope="module")
def live(migrated, database_url, tmp_path_factory) -> Iterator[Live]:
    """What `khabuan serve` runs, on free ports: lenient emulator, app with /simulator, worker."""
    _clean(migrated)
    emulator = LineEmulator(access_token=TOKEN, strict=False).start()
    emulator.quota_limit = None
    settings = load_settings({
        "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": emulator.base_url, "DATABASE_URL": database_url,
        "KHABUAN_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "BOT_QUIET_HOURS": "00:00-00:00",  # pushes must not wait for morning whenever the suite runs
    })
    app = create_app(settings, emulator=emulator)
    services = app.extensions["khabuan"]
    richmenu.deploy(services.gateway.rich_menus)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    # The sender only: jobs are fired from the clock panel, never by the wall clock mid-test.
    worker = Worker(services, build_registry(), WorkerOptions(poll=0.2, scheduler=False))
    working = threading.Thread(target=worker.run, daemon=True)
    working.start()
    live = Live(f"http://127.0.0.1:{server.server_port}/simulator/", app, emulator)
    yield live
    worker.stop()
    working.join(timeout=10)
    server.shutdown()
    services.gateway.close()
    services.engine.dispose()
    emulator.stop()
    violations = [f"{r.method} {r.path}: {r.errors}" for r in emulator.violations]
    assert len(violations) == live.deliberate_violations, "LINE would have rejected:\n" + "\n".join(violations)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser, live):
    context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="th-TH")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Nothing may come from the internet: any request off this host fails the test.
    outside: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(("http://127.0.0.1", "data:")) else outside.append(req.url))
    page.goto(live.url)
    yield page
    context.close()
    assert not errors, errors
    assert not outside, outside


@pytest.fixture(scope="module")
def shot():
    ARTIFACTS.mkdir(exist_ok=True)
    counter = iter(range(1, 100))

    def save(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"simulator-{next(counter):02d}-{name}.png"), full_page=True)

    return save


CONSOLE_LOGIN_ID, CONSOLE_LOGIN_SECRET = "2000000001", "browser-login-secret"


@pytest.fixture(scope="module")
def console_live(migrated, database_url, tmp_path_factory) -> Iterator[Live]:
    """`khabuan serve` as a newcomer runs it, for the console: the simulator, the worker, sign-in
    links pointing at this server, and LINE Login against the emulator."""
    from dataclasses import replace

    _clean(migrated)
    emulator = LineEmulator(access_token=TOKEN, strict=False).start()
    emulator.quota_limit = None
    emulator.login.set_channel(CONSOLE_LOGIN_ID, CONSOLE_LOGIN_SECRET)
    holder: dict[str, Flask] = {}
    # Bound first, so the public address (in sign-in links) is known before the app is built.
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    settings = replace(load_settings({
        "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": emulator.base_url, "DATABASE_URL": database_url,
        "KHABUAN_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "BOT_QUIET_HOURS": "00:00-00:00", "KHABUAN_PUBLIC_URL": base,
    }), login_channel_id=CONSOLE_LOGIN_ID, login_channel_secret=CONSOLE_LOGIN_SECRET,
        login_metadata_url=f"{emulator.base_url}/.well-known/openid-configuration")
    app = holder["app"] = create_app(settings, emulator=emulator)
    services = app.extensions["khabuan"]
    richmenu.deploy(services.gateway.rich_menus)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    worker = Worker(services, build_registry(), WorkerOptions(poll=0.2, scheduler=False))
    working = threading.Thread(target=worker.run, daemon=True)
    working.start()
    yield Live(base, app, emulator)
    worker.stop()
    working.join(timeout=10)
    server.shutdown()
    services.gateway.close()
    services.engine.dispose()
    emulator.stop()
