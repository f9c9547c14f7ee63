"""Signing in to the web console: the link confirmed in chat, LINE Login against the emulator,
and every way either must refuse (expired, reused, unconfirmed, forwarded, denied, wrong state
or nonce, no console role)."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import select

from bot.app import create_app
from bot.models import AuditAction, AuditEntry, ConsoleSession, ConsoleSignIn, OutboxMessage

from .helpers import COORD, U1, csrf_token, link_path, make_coordinator, open_sign_in_link, register

LOGIN_ID, LOGIN_SECRET = "2000000001", "login-channel-secret"


def ask_link(person) -> str:
    person.say("เปิดแดชบอร์ด")
    return link_path(person.last_text())


def signed_in(client) -> bool:
    return client.get("/console/").status_code == 200


def test_link_confirmed_in_chat_opens_a_session_in_that_browser_only(chat, db, frozen_now):
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    browser = chat.app.test_client()
    opened = open_sign_in_link(browser, path)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/console/link/wait")
    waiting = browser.get("/console/link/wait")
    assert waiting.status_code == 200
    code = waiting.get_data(as_text=True).split('id="code">')[1].split("<")[0]
    assert len(code) == 4 and code.isdigit()
    assert not signed_in(browser)  # unconfirmed: no session yet
    assert code in coordinator.last_text()  # the bot asked in the person's own chat, with the code
    coordinator.tap("ใช่ ฉันเอง")
    assert "ยืนยันแล้ว" in coordinator.last_text()
    done = browser.get("/console/link/wait")
    assert done.status_code == 302 and done.headers["Location"].endswith("/console/")
    cookie = browser.get_cookie("khabuan_console", path="/console")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert signed_in(browser)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.SIGN_IN))
    assert entry is not None and entry.details == {"method": "link"}
    # The link's session was handed out once: polling again does not mint another.
    assert browser.get("/console/link/wait").status_code == 403
    assert db.scalar(select(ConsoleSession).where(ConsoleSession.ended_at.is_(None))) is not None


def test_fetching_the_link_changes_nothing_the_button_opens_it(chat, db, frozen_now):
    """LINE's link previews and URL scanners fetch chat URLs: a GET must not use the link up."""
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    asked = coordinator.last_text()
    previewer, browser = chat.app.test_client(), chat.app.test_client()
    for client in (previewer, previewer, browser, browser):
        page = client.get(path)
        assert page.status_code == 200 and "เข้าสู่ระบบด้วยเครื่องนี้" in page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "no-store"
        assert client.get_cookie("khabuan_console_link", path="/console") is None
    row = db.scalar(select(ConsoleSignIn))
    db.refresh(row)
    assert row.opened_at is None and row.browser_hash is None and row.code is None
    assert db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "console.confirm")) is None
    assert coordinator.last_text() == asked  # nothing pushed to the person yet
    english = browser.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in on this device" in english
    # A forged form (no CSRF token) changes nothing either.
    assert browser.post(path).status_code == 400
    assert previewer.get("/console/link/wait").status_code == 403  # the previewer holds nothing
    opened = browser.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/console/link/wait")
    code = browser.get("/console/link/wait").get_data(as_text=True).split('id="code">')[1].split("<")[0]
    assert code in coordinator.last_text()
    coordinator.tap("ใช่ ฉันเอง")
    assert browser.get("/console/link/wait").status_code == 302 and signed_in(browser)
    assert not signed_in(previewer)
    assert previewer.get(path).status_code == 410  # used now: its page says so


def test_pressing_the_button_of_an_expired_or_used_link_is_refused(chat, db, clock_at):
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    early, late = chat.app.test_client(), chat.app.test_client()
    page = late.get(path).get_data(as_text=True)
    assert open_sign_in_link(early, path).status_code == 302
    assert late.post(path, data={"csrf_token": csrf_token(page)}).status_code == 410
    again = ask_link(coordinator)
    page = late.get(again).get_data(as_text=True)
    clock_at.shift(timedelta(minutes=10, seconds=1))
    refused = late.post(again, data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 410 and "หมดเวลา" in refused.get_data(as_text=True)


def test_a_forwarded_link_is_useless(chat, db, frozen_now):
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    mine, theirs = chat.app.test_client(), chat.app.test_client()
    assert open_sign_in_link(mine, path).status_code == 302
    assert theirs.get(path).status_code == 410  # opened already: single use
    coordinator.tap("ใช่ ฉันเอง")
    assert theirs.get("/console/link/wait").status_code == 403  # no binding cookie, no session
    assert not signed_in(theirs)
    assert mine.get("/console/link/wait").status_code == 302 and signed_in(mine)


def test_forwarded_before_opening_asks_the_owner_who_can_deny(chat, db, frozen_now):
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    stranger = chat.app.test_client()
    open_sign_in_link(stranger, path)
    coordinator.tap("ไม่ใช่ฉัน")
    assert "ปฏิเสธ" in coordinator.last_text()
    assert stranger.get("/console/link/wait").status_code == 403
    assert not signed_in(stranger)


def test_an_expired_link_is_refused(chat, db, clock_at):
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    clock_at.shift(timedelta(minutes=10, seconds=1))
    browser = chat.app.test_client()
    refused = browser.get(path)
    assert refused.status_code == 410 and "หมดเวลา" in refused.get_data(as_text=True)


def test_a_confirmation_after_ten_minutes_does_not_sign_in(chat, db, clock_at):
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    browser = chat.app.test_client()
    open_sign_in_link(browser, path)
    clock_at.shift(timedelta(minutes=11))
    coordinator.tap("ใช่ ฉันเอง")
    assert "หมดเวลา" in coordinator.last_text()
    assert browser.get("/console/link/wait").status_code == 403
    assert not signed_in(browser)


def test_an_unknown_link_and_a_leader_asking_are_refused(chat, db, frozen_now):
    leader = register(chat, user_id=U1)
    leader.say("เปิดแดชบอร์ด")
    assert "ผู้ประสานงาน" in leader.last_text() and "/console/link/" not in leader.last_text()
    assert chat.app.test_client().get("/console/link/" + "x" * 43).status_code == 404


def test_anonymous_pages_say_how_to_sign_in(chat):
    client = chat.app.test_client()
    for path in ("/console/", "/console/organizations", "/console/reports", "/console/assembly", "/console/people"):
        response = client.get(path)
        assert response.status_code == 302 and "/console/signin" in response.headers["Location"], path
    page = client.get("/console/signin").get_data(as_text=True)
    assert "เปิดแดชบอร์ด" in page
    english = client.get("/console/signin", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "dashboard" in english and "Sign in with LINE" not in english  # no LINE Login channel here


def test_sign_out_ends_the_session(chat, db, frozen_now):
    coordinator = make_coordinator(chat, db)
    browser = chat.app.test_client()
    open_sign_in_link(browser, ask_link(coordinator))
    coordinator.tap("ใช่ ฉันเอง")
    browser.get("/console/link/wait")
    page = browser.get("/console/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert browser.post("/console/signout", data={"csrf_token": token}).status_code == 302
    assert not signed_in(browser)


# ---- LINE Login ---------------------------------------------------------------------------------


@pytest.fixture
def login_app(app, settings, emulator):
    emulator.login.set_channel(LOGIN_ID, LOGIN_SECRET)
    configured = replace(settings, login_channel_id=LOGIN_ID, login_channel_secret=LOGIN_SECRET,
                         login_metadata_url=f"{emulator.base_url}/.well-known/openid-configuration")
    application = create_app(configured)
    application.config["TESTING"] = True
    yield application
    application.extensions["khabuan"].gateway.close()
    application.extensions["khabuan"].engine.dispose()


def _authorize(client, user_id: str, tamper=None) -> str:
    """Start LINE Login, let the emulator approve as `user_id`; the callback path LINE redirects to."""
    start = client.get("/console/login/line")
    assert start.status_code == 302
    url = start.headers["Location"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["state"] and query["nonce"] and query["response_type"] == "code"
    if tamper:
        tamper(query)
    query["user"] = user_id
    answer = requests.get(urlunsplit(parts._replace(query=urlencode(query))), allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def test_line_login_signs_in_a_coordinator(login_app, chat, db, frozen_now):
    make_coordinator(chat, db)
    client = login_app.test_client()
    assert "เข้าด้วยบัญชีไลน์" in client.get("/console/signin").get_data(as_text=True)
    done = client.get(_authorize(client, COORD))
    assert done.status_code == 302 and done.headers["Location"].endswith("/console/")
    assert signed_in(client)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.SIGN_IN))
    assert entry.details == {"method": "line_login"}


def test_line_login_refuses_a_wrong_state(login_app, chat, db, frozen_now):
    make_coordinator(chat, db)
    client = login_app.test_client()
    callback = _authorize(client, COORD, tamper=lambda q: q.update(state="forged-state"))
    assert client.get(callback).status_code == 403
    assert not signed_in(client)


def test_line_login_refuses_a_wrong_nonce(login_app, chat, db, frozen_now):
    make_coordinator(chat, db)
    client = login_app.test_client()
    callback = _authorize(client, COORD, tamper=lambda q: q.update(nonce="another-nonce"))
    assert client.get(callback).status_code == 403
    assert not signed_in(client)


def test_line_login_refuses_a_replayed_code_and_a_person_without_a_console_role(login_app, chat, db, frozen_now):
    make_coordinator(chat, db)
    register(chat, user_id=U1)
    client = login_app.test_client()
    callback = _authorize(client, COORD)
    assert client.get(callback).status_code == 302
    other = login_app.test_client()
    assert other.get(callback).status_code == 403  # another browser: no state of its own
    leader = login_app.test_client()
    assert leader.get(_authorize(leader, U1)).status_code == 403
    assert not signed_in(leader)


def test_over_https_the_session_cookie_is_secure(chat, db, frozen_now):
    coordinator = make_coordinator(chat, db)
    path = ask_link(coordinator)
    browser = chat.app.test_client()
    https = {"base_url": "https://localhost"}
    open_sign_in_link(browser, path, **https)
    coordinator.tap("ใช่ ฉันเอง")
    assert browser.get("/console/link/wait", **https).status_code == 302
    cookie = browser.get_cookie("khabuan_console", path="/console")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.expires is not None  # 12 hours, then the browser forgets it (the database ends it too)


def test_a_post_without_csrf_token_gets_a_kind_page(chat, db, frozen_now):
    coordinator = make_coordinator(chat, db)
    browser = chat.app.test_client()
    open_sign_in_link(browser, ask_link(coordinator))
    coordinator.tap("ใช่ ฉันเอง")
    browser.get("/console/link/wait")
    refused = browser.post("/console/signout")
    assert refused.status_code == 400 and "แบบฟอร์มนี้หมดอายุ" in refused.get_data(as_text=True)
    assert signed_in(browser)  # not signed out by a forged form
