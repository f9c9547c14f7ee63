"""The web console in Chromium: sign in through the link confirmed in the simulator's chat and
through LINE Login against the emulator; a province coordinator sees only their province; an
XLSX export downloads and reads back. Screenshots go to test-artifacts/ (console-*.png)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.models import ActivityReport, ActivityType, Member, Organization, OrgStatus, Province

from .conftest import ARTIFACTS

TIMEOUT = 15_000


def _isolated(page) -> tuple[list[str], list[str]]:
    """Collect page errors and any request that leaves this machine (none may)."""
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else outside.append(req.url))
    return errors, outside


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def context(browser, console_live):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH", accept_downloads=True)
    yield ctx
    ctx.close()


def _wait_bot(page, before: int) -> None:
    page.wait_for_function("n => document.querySelectorAll('#messages .row.bot').length > n", arg=before,
                           timeout=TIMEOUT)


def _say(page, text: str) -> None:
    before = page.locator("#messages .row.bot").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    _wait_bot(page, before)


def _tap(page, label: str) -> None:
    before = page.locator("#messages .row.bot").count()
    page.locator("#quick .chip, #messages button").filter(has_text=label).locator(f"text='{label}'").last.click()
    _wait_bot(page, before)


def _coordinator(page, name: str) -> None:
    page.fill("#new-persona [name=name]", name)
    page.select_option("#new-persona [name=kind]", "coordinator")
    page.select_option("#new-persona [name=province]", "50")
    page.click("#new-persona button[type=submit]")
    page.wait_for_function("name => document.querySelector('#messages').dataset.chat === name", arg=name,
                           timeout=TIMEOUT)
    page.wait_for_selector("#messages .row.bot", timeout=TIMEOUT)
    _tap(page, "ยินยอม")
    _say(page, name)
    _say(page, "081-234-5678")
    _say(page, "เชียงใหม่")
    _tap(page, "บันทึก")


def _seed_two_provinces(live) -> None:
    with live.app.extensions["khabuan"].session_factory() as session, session.begin():
        author = session.scalar(select(Member).where(Member.full_name.is_not(None)))
        for name, code in (("กลุ่มทอผ้าดอยสะเก็ด", "50"), ("ชุมชนริมคลองบางกอก", "10")):
            org = Organization(name=name, org_type="community", member_count=25, status=OrgStatus.CERTIFIED,
                               province=session.scalar(select(Province).where(Province.code == code)))
            session.add(org)
            session.flush()
            from datetime import date

            session.add(ActivityReport(organization=org, author=author, activity_type=ActivityType.MEETING,
                                       activity_date=date.today(), participants=12, description="ประชุม"))


@pytest.fixture(scope="module")
def console(context, console_live):
    """The simulator in one tab; the coordinator asks for the link, opens it, presses the button, confirms in chat."""
    sim = context.new_page()
    errors, outside = _isolated(sim)
    sim.goto(console_live.url + "/simulator/")
    _coordinator(sim, "ผู้ประสาน ดอยสะเก็ด")
    _seed_two_provinces(console_live)
    _say(sim, "เปิดแดชบอร์ด")
    link = sim.locator("#messages a.link").last
    assert re.search(r"/console/link/", link.get_attribute("href") or "")
    with context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab_errors, tab_outside = _isolated(tab)
    # The link's page changes nothing until the button is pressed (link previews fetch it too).
    tab.wait_for_selector("#sign-in-here", timeout=TIMEOUT)
    assert tab.locator("#code").count() == 0
    _shot(tab, "00-sign-in-here")
    tab.click("#sign-in-here")
    tab.wait_for_selector("#code", timeout=TIMEOUT)
    code = tab.locator("#code").inner_text().strip()
    _shot(tab, "01-code")
    sim.bring_to_front()
    sim.locator("#messages").get_by_text(code, exact=False).last.wait_for(timeout=TIMEOUT)
    _shot(sim, "02-confirm-in-chat")
    _tap(sim, "ใช่ ฉันเอง")
    tab.bring_to_front()
    tab.wait_for_url(re.compile(r"/console/$"), timeout=TIMEOUT)
    _shot(tab, "03-overview")
    yield {"tab": tab, "sim": sim, "code": code}
    assert not errors + tab_errors, errors + tab_errors
    assert not outside + tab_outside, outside + tab_outside


def test_sign_in_through_the_link_confirmed_in_the_simulator_chat(console):
    tab = console["tab"]
    assert "เชียงใหม่" in tab.locator("h2").first.inner_text()
    assert tab.locator("#map svg").count() == 1 and tab.locator("#chart img").count() == 1
    assert tab.locator("#chart img").evaluate("img => img.complete && img.naturalWidth > 0")


def test_a_province_coordinator_sees_only_their_province(console, console_live):
    tab = console["tab"]
    tab.goto(console_live.url + "/console/organizations")
    table = tab.locator("#orgs").inner_text()
    assert "กลุ่มทอผ้าดอยสะเก็ด" in table and "ชุมชนริมคลองบางกอก" not in table
    tab.set_viewport_size({"width": 360, "height": 740})  # a cheap phone: the page still fits
    assert tab.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    _shot(tab, "04-organizations-360px")
    tab.set_viewport_size({"width": 1280, "height": 900})
    answer = tab.goto(console_live.url + "/console/organizations?province=10")
    assert answer.status == 404
    answer = tab.goto(console_live.url + "/console/reports?scope=national")
    assert answer.status == 404


def test_an_xlsx_export_downloads_and_reads_back(console, console_live, tmp_path):
    from openpyxl import load_workbook

    tab = console["tab"]
    tab.goto(console_live.url + "/console/exports")
    with tab.expect_download() as downloading:
        tab.locator("#export-reports a", has_text="XLSX").click()
    download = downloading.value
    assert re.fullmatch(r"reports_province-50_\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "กลุ่มทอผ้าดอยสะเก็ด" in rows[1] and "ชุมชนริมคลองบางกอก" not in str(rows)


def test_sign_in_with_line_login_against_the_emulator(browser, console, console_live):
    fresh = browser.new_context(viewport={"width": 390, "height": 800}, locale="th-TH")
    page = fresh.new_page()
    errors, outside = _isolated(page)
    page.goto(console_live.url + "/console/")
    assert "/console/signin" in page.url
    page.click("#line-login")
    page.wait_for_selector("#people", timeout=TIMEOUT)  # the emulator's LINE Login page
    _shot(page, "05-line-login")
    page.locator("#people a", has_text="ผู้ประสาน ดอยสะเก็ด").click()
    page.wait_for_url(re.compile(r"/console/$"), timeout=TIMEOUT)
    assert "เชียงใหม่" in page.locator("h2").first.inner_text()
    _shot(page, "06-line-login-overview")
    fresh.close()
    assert not errors and not outside, (errors, outside)
