"""The whole product in a browser: register, register an organization, certify it, report, digest.

Each step taps what a person would tap on the simulator page (chips, Flex buttons, the rich menu,
the native date picker); the page posts the event, the server signs it for /callback, and pushes
arrive through the worker. A screenshot of every step is saved under test-artifacts/.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import _, use_locale
from bot.schedule import build_registry

from .conftest import ARTIFACTS

TIMEOUT = 15_000  # ms: a push goes outbox → worker (0.2 s poll) → emulator → page poll (0.7 s)


class Phone:
    """The simulator's phone view, used like a person uses LINE."""

    def __init__(self, page) -> None:
        self.page = page

    def bot_rows(self) -> int:
        return self.page.locator("#messages .row.bot").count()

    def _await_reply(self, before: int) -> None:
        self.page.wait_for_function("n => document.querySelectorAll('#messages .row.bot').length > n",
                                    arg=before, timeout=TIMEOUT)

    def open(self, name: str) -> None:
        self.page.locator("#personas li", has_text=name).first.click()
        wait_for_chat(self.page, name)

    def tap(self, label: str) -> None:
        """The newest chip or button with exactly this label, as a thumb would find it."""
        before = self.bot_rows()
        target = self.page.locator("#quick .chip, #messages button").filter(
            has_text=label).locator(f"text='{label}'")
        target.last.click()
        self._await_reply(before)

    def say(self, text: str) -> None:
        before = self.bot_rows()
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")
        self._await_reply(before)

    def rich_menu(self, label: str) -> None:
        before = self.bot_rows()
        self.page.click(f"#richmenu button.area[data-label='{label}']")
        self._await_reply(before)

    def pick_date(self, label: str, value: str) -> None:
        before = self.bot_rows()
        self.page.locator("#quick .chip", has_text=label).last.click()
        picker = self.page.locator("#picker-input")
        assert picker.get_attribute("type") == "date"  # the native date picker, not a text box
        picker.fill(value)
        self.page.click("#picker-ok")
        self._await_reply(before)

    def wait_for_text(self, text: str) -> None:
        self.page.locator("#messages").get_by_text(text, exact=False).last.wait_for(timeout=TIMEOUT)

    def transcript(self) -> str:
        return self.page.locator("#messages").inner_text()


def wait_for_chat(page, name: str) -> None:
    """Until the phone shows this persona's own transcript (not the previous chat's)."""
    page.wait_for_function("name => document.querySelector('#messages').dataset.chat === name",
                           arg=name, timeout=TIMEOUT)


def add_persona(page, name: str, kind: str, province: str | None = "50") -> None:
    page.fill("#new-persona [name=name]", name)
    page.select_option("#new-persona [name=kind]", kind)
    if province:
        page.select_option("#new-persona [name=province]", province)
    page.click("#new-persona button[type=submit]")
    wait_for_chat(page, name)
    page.wait_for_selector("#messages .row.bot", timeout=TIMEOUT)  # the bot greeted the new friend


def register(phone: Phone, name: str) -> None:
    phone.tap("ยินยอม")
    phone.say(name)
    phone.say("081-234-5678")
    phone.say("เชียงใหม่")
    phone.tap("บันทึก")


@pytest.fixture(scope="module")
def scenario(page, shot, live):
    """Steps 1–4, in order, on one running simulator; each test below checks what a step left."""
    phone = Phone(page)
    done: dict[str, str] = {}

    add_persona(page, "ผู้ประสาน ดอยคำ", "coordinator")
    register(phone, "ผู้ประสาน ดอยคำ")
    done["coordinator"] = phone.transcript()

    add_persona(page, "สมศรี ใจดี", "leader")
    register(phone, "สมศรี ใจดี")
    done["registered"] = phone.transcript()
    shot(page, "leader-registered")

    phone.tap("ลงทะเบียนองค์กร")
    phone.say("กลุ่มออมทรัพย์บ้านแม่แฝก")
    phone.tap("กลุ่มออมทรัพย์")
    phone.say("ต.แม่แฝก อ.สันทราย")  # the province and the phone are the leader's own, on the card
    phone.tap("สวัสดิการชุมชน")
    phone.tap("เสร็จแล้ว")
    phone.say("๑๒๐ คน")
    phone.say("พ.ศ. 2550")
    phone.tap("บันทึก")
    done["org"] = phone.transcript()
    shot(page, "organization-registered")

    # The push reaches the coordinator's chat while another is open: its unread badge says so.
    badge = page.locator("#personas li", has_text="ผู้ประสาน ดอยคำ").locator(".badge")
    badge.wait_for(state="visible", timeout=TIMEOUT)
    done["badge"] = badge.inner_text()
    phone.open("ผู้ประสาน ดอยคำ")
    phone.wait_for_text("กลุ่มออมทรัพย์บ้านแม่แฝก")  # the certification request, pushed by the worker
    shot(page, "coordinator-request")
    phone.tap("รับรอง")
    done["certified"] = phone.transcript()
    phone.open("สมศรี ใจดี")
    phone.wait_for_text("ได้รับการรับรอง")
    done["leader_told"] = phone.transcript()
    shot(page, "certified")

    yesterday = (datetime.now(ZoneInfo("Asia/Bangkok")) - timedelta(days=1)).date()
    phone.rich_menu("รายงานกิจกรรม")
    phone.pick_date("วันอื่น", yesterday.isoformat())  # the day is today unless another is picked
    phone.tap("ประชุม")
    phone.say("35")
    phone.say("ประชุมประจำเดือน วางแผนกองทุนสวัสดิการ")
    phone.tap("ไม่มีรูป")
    phone.tap("ไม่ได้ใช้งบ")
    done["report_card"] = phone.transcript()
    phone.tap("บันทึก")
    done["report"] = phone.transcript()
    done["date_param"] = json.dumps([r.json for r in live.emulator.requests if r.json], ensure_ascii=False)
    shot(page, "report-filed")
    return done


def test_leader_and_coordinator_register(scenario):
    assert "ผู้ประสาน ดอยคำ" in scenario["coordinator"]
    assert "สมศรี ใจดี" in scenario["registered"]


def test_organization_is_registered_and_certified(scenario, live):
    assert "กลุ่มออมทรัพย์บ้านแม่แฝก" in scenario["org"]
    assert "ส่งให้ผู้ประสานงาน" in scenario["org"]
    assert "ได้รับการรับรอง" in scenario["leader_told"]
    assert int(scenario["badge"]) >= 1
    pushes = [d for d in live.emulator.delivered if d.via in ("push", "multicast")]
    assert len(pushes) >= 2  # the request to the coordinator and the outcome to the leader


def test_report_is_filed_with_the_picked_date(scenario, live):
    from sqlalchemy import select

    from bot.models.reports import ActivityReport

    with live.app.extensions["khabuan"].session_factory() as session:
        report = session.scalar(select(ActivityReport))
    yesterday = (datetime.now(ZoneInfo("Asia/Bangkok")) - timedelta(days=1)).date()
    assert report is not None and report.activity_date == yesterday and report.participants == 35
    assert "ตรวจรายงานกิจกรรม" in scenario["report_card"]


def test_request_log_shows_what_line_would_refuse_in_red(scenario, page, shot, live):
    from linebot.v3.messaging import TextMessage

    assert page.locator("#log li.ok").count() > 0  # every call of the scenario, accepted
    # A text over LINE's 5,000 characters: the lenient emulator delivers it but marks it.
    live.deliberate_violations += 1
    live.app.extensions["khabuan"].gateway.push("U" + "f" * 32, [TextMessage(text="ก" * 5001)], retry_key=None)
    flagged = page.locator("#log li.violation").first
    flagged.wait_for(timeout=TIMEOUT)
    assert "/v2/bot/message/push" in flagged.inner_text() and "5000" in flagged.inner_text()
    assert flagged.evaluate("e => getComputedStyle(e).color") == "rgb(153, 0, 0)"
    shot(page, "request-log")


def test_group_receives_a_digest_fired_from_the_clock_panel(scenario, page, shot, live):
    digests = [spec.name for spec in build_registry() if "digest" in spec.name]
    if not digests:
        pytest.xfail("digests land with issue 5")
    phone = Phone(page)
    add_persona(page, "เลขา ส่วนกลาง", "secretariat", province=None)
    register(phone, "เลขา ส่วนกลาง")
    for box in page.locator("#group-members input").all():
        box.check()
    page.fill("#new-group [name=name]", "กองเลขาขบวน")
    page.click("#new-group button[type=submit]")
    wait_for_chat(page, "กองเลขาขบวน")
    page.select_option("#speaker", label="เลขา ส่วนกลาง")
    # Binding (issue 5): "ผูกกลุ่ม", then the scope; a bound group gets the daily digest by default.
    with use_locale("th"):
        national = _("scope.national")
    phone.say("ผูกกลุ่ม")
    phone.tap(national)
    shot(page, "group-bound")
    before = phone.bot_rows()
    page.locator("#jobs tr", has_text=digests[0]).locator("button.run").click()
    # The panel reports the run ("<job>: done" or "<job>: failed <error>"); then the push arrives.
    page.wait_for_function("name => document.querySelector('#status').textContent.startsWith(name + ':')",
                           arg=digests[0], timeout=TIMEOUT)
    outcome = page.locator("#status").inner_text()
    assert outcome.startswith(f"{digests[0]}: done"), outcome
    page.wait_for_function("n => document.querySelectorAll('#messages .row.bot').length > n",
                           arg=before, timeout=TIMEOUT)
    shot(page, "group-digest")
    digest = " ".join(page.locator("#messages .row.bot").all_inner_texts()[before:])
    assert "เชียงใหม่" in digest  # the day's report, counted under its province


# ---- quiet hours, status colours, a 360-px phone ----------------------------------------------------


def test_chat_tells_when_a_push_waits_for_quiet_hours(scenario, page, shot, live):
    """Quiet hours around the present moment: the push waits, and the chat says until when."""
    from dataclasses import replace

    from bot import ui
    from bot.delivery.outbox import enqueue

    services = live.app.extensions["khabuan"]
    original = services.settings
    bkk = ZoneInfo("Asia/Bangkok")
    now = datetime.now(bkk).replace(second=0, microsecond=0)
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time()
    leader = next(p.id for p in live.app.extensions["khabuan_simulator"].personas.values() if p.name == "สมศรี ใจดี")
    phone = Phone(page)
    phone.open("สมศรี ใจดี")
    assert page.locator("#held").is_hidden()
    try:
        services.settings = services.sender.settings = replace(original, quiet_start=start, quiet_end=end)
        with services.session_factory() as session, session.begin():
            enqueue(session, [leader], [ui.text("สรุปกิจกรรมประจำวัน")], now=now, kind="digest")
        notice = page.locator("#held")
        notice.wait_for(state="visible", timeout=TIMEOUT)
        assert f"{end:%H:%M} น." in notice.inner_text() and "ช่วงเวลางดส่ง" in notice.inner_text()
        assert "สรุปกิจกรรมประจำวัน" not in phone.transcript()  # held: the worker does not send it
        shot(page, "held-by-quiet-hours")
    finally:
        services.settings = services.sender.settings = original
    phone.wait_for_text("สรุปกิจกรรมประจำวัน")  # quiet hours over: the worker sends it
    page.locator("#held").wait_for(state="hidden", timeout=TIMEOUT)


GREEN, RED = "rgb(10, 125, 59)", "rgb(170, 0, 0)"


def test_success_is_not_shown_in_red(scenario, page, live):
    page.locator("#jobs tr", has_text="housekeeping").locator("button.run").click()
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('housekeeping:')",
                           timeout=TIMEOUT)
    status = page.locator("#status")
    assert status.inner_text().startswith("housekeeping: done")
    assert status.evaluate("e => getComputedStyle(e).color") == GREEN
    accepted = page.locator("#log li.ok .code").first
    assert accepted.inner_text() == "200" and accepted.evaluate("e => getComputedStyle(e).color") == GREEN
    # What LINE would refuse stays red, and says so; the emulator's own 200 is not what is wrong.
    refused = page.locator("#log li.violation")
    if refused.count():
        assert "LINE would refuse" in refused.first.inner_text()
    page.evaluate("() => say('no such persona')")  # a failure keeps the red
    assert status.evaluate("e => getComputedStyle(e).color") == RED


def test_simulator_fits_a_360_px_phone(scenario, browser, live, shot):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="th-TH", is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    small = context.new_page()
    errors: list[str] = []
    small.on("pageerror", lambda exc: errors.append(str(exc)))
    fits = "() => document.documentElement.scrollWidth <= 360"
    try:
        small.goto(live.url)
        small.locator("#personas li").first.wait_for(timeout=TIMEOUT)
        assert small.evaluate(fits), small.evaluate("() => document.documentElement.scrollWidth")
        # The chat comes first: its area starts at the top of the page, above the persona list.
        area, side = small.locator("#phone-area").bounding_box(), small.locator("#side").bounding_box()
        assert area["y"] < side["y"]
        phone = Phone(small)
        phone.open("สมศรี ใจดี")
        assert small.evaluate(fits), small.evaluate("() => document.documentElement.scrollWidth")
        box = small.locator("#text").bounding_box()
        assert small.locator("#text").is_visible()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert box["y"] >= 0 and box["y"] + box["height"] <= 740, box  # on screen, no scrolling needed
        phone.say("ช่วยเหลือ")  # usable: typing and sending work on the small screen
        assert small.evaluate(fits), small.evaluate("() => document.documentElement.scrollWidth")
        small.screenshot(path=str(ARTIFACTS / "simulator-phone-360-chat.png"))
        shot(small, "phone-360-whole-page")
        # The panels are below the chat, reachable by scrolling.
        small.locator("#jobs").scroll_into_view_if_needed()
        assert small.locator("#jobs").is_visible() and small.locator("#new-persona").is_visible()
    finally:
        context.close()
    assert not errors, errors
