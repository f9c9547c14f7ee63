"""The web simulator's server side: personas, signed webhooks, transcripts, clock, request log; `khabuan serve`."""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from linebot.v3.messaging import TextMessage
from PIL import Image
from sqlalchemy import func, select

from bot import ui
from bot.app import create_app
from bot.delivery.outbox import enqueue
from bot.emulator import LineEmulator
from bot.models import Member, ProcessedEvent, Role, RoleGrant, utcnow
from bot.models.delivery import JobRun

from .conftest import TOKEN, _clean


@pytest.fixture
def sim(migrated, settings):
    """An app in emulator mode, as `khabuan serve` builds it: a lenient emulator, /simulator on."""
    _clean(migrated)
    emulator = LineEmulator(access_token=TOKEN, strict=False).start()
    app = create_app(replace(settings, line_api_base_url=emulator.base_url), emulator=emulator)
    app.config["TESTING"] = True
    yield app.test_client(), emulator, app
    services = app.extensions["khabuan"]
    services.gateway.close()
    services.engine.dispose()
    emulator.stop()


def persona(client, name="สมศรี", kind="leader", scope="province:50") -> str:
    response = client.post("/simulator/api/personas", json={"name": name, "kind": kind, "scope": scope})
    assert response.status_code == 201, response.data
    assert response.json["webhook"] == 200
    return response.json["persona"]["id"]


def transcript(client, chat_id):
    return client.get(f"/simulator/api/chats/{chat_id}").json["messages"]


def test_no_simulator_with_a_real_channel(app):
    assert app.test_client().get("/simulator/").status_code == 404
    assert app.test_client().get("/simulator/api/state").status_code == 404


def test_page_and_font_are_served_locally(sim):
    client, _emu, _app = sim
    page = client.get("/simulator/")
    assert page.status_code == 200
    html = page.data.decode()
    # Nothing from the internet: every src/href is local (or an inline data: URL).
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/simulator/", "data:")), url
    assert "Sarabun" in client.get("/simulator/static/simulator.css").data.decode()
    font = client.get("/simulator/font/Regular.ttf")
    assert font.status_code == 200 and font.data[:4] == b"\x00\x01\x00\x00"  # a TrueType file


def test_persona_follows_and_gets_its_role(sim, db):
    client, emulator, _app = sim
    user_id = persona(client, kind="coordinator", scope="province:50")
    messages = transcript(client, user_id)
    assert messages and messages[0]["from"] == "bot" and "สวัสดี" in messages[0]["message"]["text"]
    grant = db.scalar(select(RoleGrant).join(RoleGrant.member).where(Member.line_user_id == user_id))
    assert (grant.role, grant.scope_code) == (Role.COORDINATOR, "50")
    state = client.get("/simulator/api/state").json
    assert state["personas"][0]["roles"] == ["coordinator (province:50)"]
    assert len(state["provinces"]) == 77


def test_bad_scope_is_refused_before_anything_exists(sim, db):
    client, _emu, _app = sim
    response = client.post("/simulator/api/personas", json={"name": "x", "kind": "delegate", "scope": "province:999"})
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Member)) == 0


def test_grant_from_the_page_uses_the_grant_code_path(sim, db):
    client, _emu, _app = sim
    user_id = persona(client, kind="member", scope="national")
    response = client.post(f"/simulator/api/personas/{user_id}/grant", json={"role": "secretariat", "scope": "national"})
    assert response.status_code == 200
    assert client.post(f"/simulator/api/personas/{user_id}/grant",
                       json={"role": "secretariat", "scope": "region:nowhere"}).status_code == 400
    roles = db.scalars(select(RoleGrant.role).join(RoleGrant.member).where(Member.line_user_id == user_id)).all()
    assert roles == [Role.SECRETARIAT]


def test_postback_shows_display_text_and_reaches_the_bot_signed(sim, db):
    client, emulator, _app = sim
    user_id = persona(client)
    events_before = db.scalar(select(func.count()).select_from(ProcessedEvent))
    response = client.post(f"/simulator/api/chats/{user_id}/send",
                           json={"type": "postback", "data": "cmd=help", "displayText": "ช่วยเหลือ"})
    assert response.json["webhook"] == 200  # the webhook verified the signature
    db.rollback()
    assert db.scalar(select(func.count()).select_from(ProcessedEvent)) == events_before + 1
    messages = transcript(client, user_id)
    assert messages[-2] == {"from": user_id, "message": {"type": "text", "text": "ช่วยเหลือ"}}
    assert messages[-1]["from"] == "bot" and messages[-1]["via"] == "reply"


def test_date_picker_params_reach_the_bot(sim):
    """A picker's value travels as postback.params, as LINE sends it; other keys are dropped."""
    client, emulator, app = sim
    user_id = persona(client)
    seen = []
    dispatcher = app.extensions["khabuan.dispatcher"]
    original = dispatcher.input_of
    dispatcher.input_of = lambda event: seen.append(original(event)) or seen[-1]
    client.post(f"/simulator/api/chats/{user_id}/send",
                json={"type": "postback", "data": "f=x", "params": {"date": "2026-11-20", "evil": "1"}})
    assert seen[-1].params == {"date": "2026-11-20"}
    mine = [m for m in transcript(client, user_id) if m["from"] == user_id]
    assert mine[-1]["message"]["text"] == "2026-11-20"


def test_text_sticker_and_location(sim):
    client, _emu, _app = sim
    user_id = persona(client)
    client.post(f"/simulator/api/chats/{user_id}/send", json={"type": "sticker"})
    assert transcript(client, user_id)[-1]["from"] == "bot"
    response = client.post(f"/simulator/api/chats/{user_id}/send",
                           json={"type": "location", "latitude": "18.79", "longitude": "98.98"})
    assert response.json["webhook"] == 200
    shared = transcript(client, user_id)[-2]["message"]
    assert shared["type"] == "location" and shared["address"] == "18.79000, 98.98000"
    bad = client.post(f"/simulator/api/chats/{user_id}/send", json={"type": "location", "latitude": "north"})
    assert bad.status_code == 400
    client.post(f"/simulator/api/chats/{user_id}/send", json={"type": "text", "text": "เมนู"})
    assert transcript(client, user_id)[-1]["message"]["quickReply"]["items"]


def test_photo_upload_is_content_the_bot_can_download(sim):
    client, emulator, app = sim
    user_id = persona(client)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, format="JPEG")
    response = client.post(f"/simulator/api/chats/{user_id}/photo",
                           data={"photo": (io.BytesIO(buffer.getvalue()), "p.jpg", "image/jpeg")},
                           content_type="multipart/form-data")
    assert response.json["webhook"] == 200
    bubble = transcript(client, user_id)[-2]["message"]
    assert bubble["type"] == "image"
    served = client.get(f"/simulator/{bubble['src']}")
    assert served.data == buffer.getvalue()
    message_id = bubble["src"].rsplit("/", 1)[1]
    status, data, _type = app.extensions["khabuan"].gateway.content(message_id)
    assert status == 200 and data == buffer.getvalue()


def test_group_with_personas(sim):
    client, emulator, _app = sim
    a, b = persona(client, "แดง"), persona(client, "ดำ", kind="secretariat", scope="national")
    response = client.post("/simulator/api/groups", json={"name": "กองเลขาภาคเหนือ", "members": [a, b]})
    group_id = response.json["persona"]["id"]
    assert group_id.startswith("C") and response.json["webhook"] == 200
    assert transcript(client, group_id)[0]["from"] == "bot"  # the join intro
    client.post(f"/simulator/api/chats/{group_id}/send", json={"type": "text", "text": "ช่วยเหลือ", "as": b})
    messages = transcript(client, group_id)
    assert messages[-2]["from"] == b and messages[-1]["from"] == "bot"
    outsider = persona(client, "นอกกลุ่ม")
    refused = client.post(f"/simulator/api/chats/{group_id}/send", json={"type": "text", "text": "x", "as": outsider})
    assert refused.status_code == 400


def test_pushes_appear_in_the_recipient_chat(sim, db):
    """A coordinator's certification request is a push (outbox → sender), not a reply."""
    client, emulator, app = sim
    coordinator = persona(client, "ผู้ประสาน", kind="coordinator", scope="province:50")
    services = app.extensions["khabuan"]
    with services.session_factory() as session, session.begin():
        enqueue(session, [coordinator], [ui.text("แจ้งเตือนทดสอบ")], now=utcnow(), kind="test")
    services.sender.deliver()
    last = transcript(client, coordinator)[-1]
    assert last["via"] == "push" and last["message"]["text"] == "แจ้งเตือนทดสอบ"


def test_chat_says_which_pushes_quiet_hours_hold_and_until_when(sim):
    """A push queued at 22:00 waits for 07:00: the chat's JSON says so, with the time, until it goes."""
    from datetime import datetime, time as clock
    from zoneinfo import ZoneInfo

    import time_machine

    client, emulator, app = sim
    services = app.extensions["khabuan"]
    services.settings = services.sender.settings = replace(services.settings, quiet_start=clock(21),
                                                           quiet_end=clock(7))
    bkk = ZoneInfo("Asia/Bangkok")
    leader, other = persona(client, "สมศรี"), persona(client, "สมชาย")
    assert client.get(f"/simulator/api/chats/{leader}").json["held"] is None
    with time_machine.travel(datetime(2026, 11, 27, 22, 0, tzinfo=bkk), tick=False):
        with services.session_factory() as session, session.begin():
            enqueue(session, [leader], [ui.text("สรุปประจำวัน")], now=utcnow(), kind="digest")
            enqueue(session, [leader], [ui.text("เตือนรายงาน")], now=utcnow(), kind="reminder")
            enqueue(session, [other], [ui.text("ด่วน")], now=utcnow(), kind="vote.open", urgent=True)
        services.sender.deliver()
        held = client.get(f"/simulator/api/chats/{leader}").json["held"]
        assert held["count"] == 2 and len(held["rows"]) == 2
        assert datetime.fromisoformat(held["until"]) == datetime(2026, 11, 28, 7, 0, tzinfo=bkk)
        assert held["notice"] == ("มีข้อความรอส่ง 2 ข้อความ จะส่งหลังช่วงเวลางดส่ง (21:00–07:00 น.) "
                                  "เวลา 07:00 น.")
        assert client.get(f"/simulator/api/chats/{other}").json["held"] is None  # urgent: already sent
        assert [m["message"]["text"] for m in transcript(client, other) if m.get("via") == "push"] == ["ด่วน"]
    with time_machine.travel(datetime(2026, 11, 28, 7, 0, tzinfo=bkk), tick=False):
        assert client.get(f"/simulator/api/chats/{leader}").json["held"] is None  # due now: the worker sends
        services.sender.deliver()
        assert client.get(f"/simulator/api/chats/{leader}").json["held"] is None
    pushed = [m["message"]["text"] for m in transcript(client, leader) if m.get("via") == "push"]
    assert pushed == ["สรุปประจำวัน", "เตือนรายงาน"]


def test_chat_names_nothing_held_when_quiet_hours_are_off(sim):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from bot.config import load_settings

    client, emulator, app = sim
    services = app.extensions["khabuan"]
    off = load_settings({"BOT_QUIET_HOURS": "off"})
    services.settings = replace(services.settings, quiet_start=off.quiet_start, quiet_end=off.quiet_end)
    leader = persona(client)
    with time_machine.travel(datetime(2026, 11, 27, 23, 0, tzinfo=ZoneInfo("Asia/Bangkok")), tick=False):
        with services.session_factory() as session, session.begin():
            enqueue(session, [leader], [ui.text("สรุปประจำวัน")], now=utcnow(), kind="digest")
        assert client.get(f"/simulator/api/chats/{leader}").json["held"] is None


def test_clock_lists_jobs_and_runs_one_like_the_cli(sim, db):
    client, _emu, _app = sim
    jobs = client.get("/simulator/api/jobs").json
    names = [j["name"] for j in jobs["jobs"]]
    assert "housekeeping" in names and jobs["timezone"] == "Asia/Bangkok"
    assert all(j["next"] for j in jobs["jobs"])
    result = client.post("/simulator/api/jobs/housekeeping/run").json
    assert result["ran"] and result["status"] == "done"
    assert db.scalar(select(JobRun.runner).where(JobRun.job_name == "housekeeping")) == "simulator"
    assert client.post("/simulator/api/jobs/nope/run").status_code == 404


def test_request_log_marks_what_line_would_refuse(sim):
    client, emulator, app = sim
    persona(client)
    # Over LINE's 5,000-character text limit: the lenient emulator delivers it but flags it.
    app.extensions["khabuan"].gateway.push("U" + "1" * 32, [TextMessage(text="ก" * 5001)], retry_key=None)
    log = client.get("/simulator/api/requests").json["requests"]
    assert [r["path"] for r in log if not r["violation"]]  # the follow reply was fine
    flagged = [r for r in log if r["violation"]]
    assert flagged and flagged[-1]["path"] == "/v2/bot/message/push" and flagged[-1]["errors"]
    since = client.get(f"/simulator/api/requests?since={len(log)}").json["requests"]
    assert since == []


def test_personas_survive_a_restart(sim, settings):
    client, emulator, app = sim
    user_id = persona(client)
    again = create_app(app.extensions["khabuan"].settings, emulator=emulator)
    state = again.test_client().get("/simulator/api/state").json
    assert [p["id"] for p in state["personas"]] == [user_id]
    again.extensions["khabuan"].engine.dispose()


# ---- `khabuan serve` -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.real_clock
def test_serve_without_credentials_runs_everything_and_stops_on_ctrl_c(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_URL"))}
    env.update(KHABUAN_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "serve", "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = ""
        # Generous: a cold process imports the bot, migrates and deploys the rich menu first,
        # which a loaded machine can stretch well past a minute.
        deadline = time.monotonic() + 150
        while "Chat simulator:" not in output and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output += line
        assert f"http://127.0.0.1:{port}/simulator/" in output, output
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/simulator/", timeout=10)
        assert page.status == 200
        menu = urllib.request.urlopen(f"http://127.0.0.1:{port}/simulator/api/richmenu", timeout=10).read()
        assert b"cmd=register" in menu  # the rich menu was deployed to the emulator
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output + rest
    assert "stopped: web app, worker and emulator" in rest
    assert (tmp_path / "instance" / "khabuan.sqlite3").exists()


def test_counts_per_chat_for_unread_badges(sim):
    client, _emu, _app = sim
    a, b = persona(client, "หนึ่ง"), persona(client, "สอง")
    before = client.get("/simulator/api/counts").json["counts"]
    client.post(f"/simulator/api/chats/{a}/send", json={"type": "text", "text": "เมนู"})
    after = client.get("/simulator/api/counts").json["counts"]
    assert after[a] == before[a] + 1 and after[b] == before[b]
