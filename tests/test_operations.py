"""Running it for real: metrics, readiness, logs without personal data, the media stores, the
gunicorn and worker processes, and the deployment files (docs/OPERATIONS.md)."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot import logs, metrics, ui
from bot.app import create_app
from bot.config import ConfigError, load_settings
from bot.delivery import enqueue
from bot.emulator import events as ev
from bot.housekeeping import sweep_photos
from bot.media import LocalMediaStore, S3MediaStore, check_key, media_store
from bot.models import OutboxMessage, OutboxStatus, Priority, ProcessedEvent, ReportPhoto, utcnow
from bot.models.delivery import JobRun, SchedulerLease

from .chat import Chat
from .conftest import SECRET
from .helpers import U1, answer_until_photos, make_org, register

ROOT = Path(__file__).resolve().parent.parent
METRICS_TOKEN = "scrape-me-please"
NAME = "ประภาพร วงศ์สวัสดิ์"
PHONE = "089-765-4321"
PHONE_FORMS = ("089-765-4321", "0897654321", "+66897654321", "89-765-4321", "765-4321")
DESCRIPTION = "ประชุมประจำเดือน วางแผนกองทุนข้าวสารบ้านห้วยทราย"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 200
PUSH = "/v2/bot/message/push"


@pytest.fixture
def settings(settings):
    """The suite's settings with a metrics token."""
    return dataclasses.replace(settings, metrics_token=METRICS_TOKEN)


def scrape(client, token: str | None = METRICS_TOKEN) -> dict[tuple[str, tuple], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    return samples(response.get_data(as_text=True))


def samples(body: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def report_with_a_photo(chat, db, emulator, *, message_id: str = "m-ops-photo"):
    """A registration with a name and phone, then an activity report with text and one photo."""
    leader = register(chat, name=NAME, phone=PHONE)
    make_org(db, U1, "ออมทรัพย์บ้านห้วยทราย")
    answer_until_photos(leader, org=None, description=DESCRIPTION)
    emulator.add_content(message_id, JPEG, "image/jpeg")
    leader.image(message_id)
    leader.tap("เสร็จแล้ว")
    leader.tap("ไม่ได้ใช้งบ")  # the location is offered on the card, not asked
    leader.tap("บันทึก")
    assert "บันทึกรายงาน" in leader.last_text()
    return leader


# ---- /metrics ----------------------------------------------------------------------------------


def test_metrics_need_the_token(app, settings):
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": METRICS_TOKEN}).status_code == 401
    assert scrape(client)  # the right one
    closed = create_app(dataclasses.replace(settings, metrics_token=""))
    assert closed.test_client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    closed.extensions["khabuan"].engine.dispose()


def test_metrics_after_a_conversation(app, chat, db, emulator, services, frozen_now):
    client = app.test_client()
    before = scrape(client)
    report_with_a_photo(chat, db, emulator)
    # A push, sent by the sender, and a scheduler that holds its lease and ran two jobs.
    with services.session_factory() as session, session.begin():
        enqueue(session, [U1], [ui.text("ประชุมพรุ่งนี้")], now=frozen_now, kind="test.notice")
        enqueue(session, ["U" + "9" * 32], [ui.text("รออยู่")], now=frozen_now + timedelta(hours=1),
                kind="test.later", priority=Priority.LOW)
        session.add(SchedulerLease(name="scheduler", holder="host-a:42:abcd1234",
                                   expires_at=frozen_now + timedelta(seconds=20), acquired_at=frozen_now))
        session.add(JobRun(job_name="housekeeping", fire_time=frozen_now - timedelta(days=1), runner="host-a:42:x",
                           status="done", finished_at=frozen_now - timedelta(days=1)))
        session.add(JobRun(job_name="housekeeping", fire_time=frozen_now, runner="host-a:42:x", status="failed",
                           finished_at=frozen_now))
    assert services.sender.deliver(now=frozen_now).delivered == 1
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("khabuan_webhook_events_total", type="message.text", outcome="handled") >= 4
    assert grew("khabuan_webhook_events_total", type="postback", outcome="handled") >= 5
    assert grew("khabuan_webhook_events_total", type="message.image", outcome="handled") == 1
    assert grew("khabuan_webhook_events_total", type="follow", outcome="handled") == 1
    assert grew("khabuan_webhook_event_seconds_count", type="message.image") == 1
    assert grew("khabuan_webhook_event_seconds_bucket", type="message.image", le="+Inf") == 1
    assert grew("khabuan_deliveries_total", result="sent") == 1
    assert value(after, "khabuan_outbox_rows", status="sent", priority="normal") == 1
    assert value(after, "khabuan_outbox_rows", status="pending", priority="low") == 1
    assert value(after, "khabuan_outbox_rows", status="failed", priority="high") == 0  # every cell present
    assert ("khabuan_outbox_rows", (("priority", "high"), ("status", "failed"))) in after
    assert value(after, "khabuan_outbox_oldest_due_seconds") == 0  # the pending row is not due yet
    assert value(after, "khabuan_line_quota_limit") == 500 and value(after, "khabuan_line_quota_used") >= 1
    assert value(after, "khabuan_line_quota_remaining") == 500 - value(after, "khabuan_line_quota_used")
    assert value(after, "khabuan_scheduler_leader", holder="host-a:42:abcd1234") == 1
    assert value(after, "khabuan_scheduler_lease_seconds_left") == 20
    assert value(after, "khabuan_job_last_run_timestamp_seconds", job="housekeeping", status="failed") \
        == frozen_now.timestamp()
    assert value(after, "khabuan_job_last_success_timestamp_seconds", job="housekeeping") \
        == (frozen_now - timedelta(days=1)).timestamp()
    # No personal data anywhere in the exposition: names, phones, LINE user ids, what was typed.
    body = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
    for secret in (*NAME.split(), *PHONE_FORMS, U1, DESCRIPTION):
        assert secret not in body


def test_delivery_results_are_counted(app, services, emulator, frozen_now):
    def count(result: str) -> float:
        return value(samples(metrics.exposition(services.session_factory)[0].decode()), "khabuan_deliveries_total",
                     result=result)

    before = {r: count(r) for r in metrics.DELIVERY_RESULTS}
    with services.session_factory() as session, session.begin():
        ids = [r.id for r in enqueue(session, ["U" + "a" * 32], [ui.text("ทดสอบ")], now=frozen_now, kind="t")]
        bad = [r.id for r in enqueue(session, ["U" + "b" * 32], [ui.text("ทดสอบ")], now=frozen_now, kind="t")]
        busy = [r.id for r in enqueue(session, ["U" + "c" * 32], [ui.text("ทดสอบ")], now=frozen_now, kind="t")]
    emulator.fail_next(PUSH, status=400)
    services.sender.deliver(ids=bad, now=frozen_now)
    emulator.fail_next(PUSH, status=500)
    services.sender.deliver(ids=busy, now=frozen_now)
    services.sender.deliver(ids=ids, now=frozen_now)
    with services.session_factory() as session, session.begin():  # sent again: LINE answers 409
        again = session.get(OutboxMessage, ids[0])
        again.status, again.messages = OutboxStatus.PENDING, [{"type": "text", "text": "ทดสอบ"}]
    services.sender.deliver(ids=ids, now=frozen_now)
    grown = {r: count(r) - before[r] for r in metrics.DELIVERY_RESULTS}
    assert grown == {"sent": 1, "duplicate": 1, "retried": 1, "failed": 1, "held": 0}


def test_the_worker_serves_the_same_guarded_metrics(services):
    from werkzeug.test import Client

    client = Client(metrics.wsgi_app(services.session_factory, METRICS_TOKEN))
    assert client.get("/metrics").status_code == 401
    assert client.get("/other", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 404
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    assert ("khabuan_outbox_rows", (("priority", "high"), ("status", "pending"))) in samples(answer.get_data(True))
    closed = Client(metrics.wsgi_app(services.session_factory, ""))
    assert closed.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    server = metrics.serve_in_thread(0, services.session_factory, METRICS_TOKEN, host="127.0.0.1")
    try:
        import urllib.request

        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/metrics",
                                         headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200 and b"khabuan_outbox_oldest_due_seconds" in answer.read()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.real_clock
def test_gunicorn_processes_add_up_on_metrics(app, services, settings, emulator, tmp_path):
    """Two gunicorn workers, each counting its own events; /metrics shows the sum, from either."""
    port = _free_port()
    multiproc = tmp_path / "prometheus"
    env = {**os.environ, **_env(settings), "PORT": str(port), "WEB_CONCURRENCY": "2", "WEB_THREADS": "2",
           "METRICS_TOKEN": METRICS_TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    log = tmp_path / "gunicorn.log"
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bot.app:create_app()"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    import urllib.request

    def handled(event_id: str) -> bool:
        with services.session_factory() as session:
            return session.get(ProcessedEvent, event_id) is not None

    def get(path: str, headers: dict | None = None) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    try:
        deadline = time.monotonic() + 60  # a cold start imports the whole bot twice on a loaded machine
        while True:
            assert web.poll() is None, log.read_text()
            try:
                if get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        def post_events(first: int, count: int) -> None:
            for n in range(first, first + count):
                body = ev.encode_body(ev.callback_body([{
                    "type": "somethingNew", "timestamp": 1, "webhookEventId": f"01OPS{n:021d}", "mode": "active",
                    "deliveryContext": {"isRedelivery": False}}]))
                request = urllib.request.Request(f"http://127.0.0.1:{port}/callback", data=body, headers={
                    "Content-Type": "application/json", "X-Line-Signature": ev.sign(body, SECRET),
                    "Connection": "close"})
                with urllib.request.urlopen(request, timeout=10) as answer:
                    assert answer.status == 200

        def counting_pids() -> set[int]:
            return {int(p.stem.split("_")[-1]) for p in multiproc.glob("counter_*.db")}

        posted = 6
        post_events(0, posted)
        first_pids = counting_pids()
        assert first_pids  # each process writes its own file in PROMETHEUS_MULTIPROC_DIR
        # A worker that exits (max_requests, a crash, a deploy) keeps what it counted: gunicorn starts
        # another, child_exit marks the dead one's files, and the sum still holds everything.
        gone = min(first_pids)
        os.kill(gone, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(gone):
            assert time.monotonic() < deadline, "the worker did not exit"
            time.sleep(0.1)
        while not (counting_pids() - first_pids):
            assert time.monotonic() < deadline, "no new worker counted anything"
            post_events(posted, 1)
            posted += 1
        for _ in range(4):  # whichever process answers the scrape, the total is everyone's
            status, text = get("/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert status == 200
            total = value(samples(text), "khabuan_webhook_events_total", type="somethingNew", outcome="ignored")
            assert total == posted
        assert len(counting_pids()) >= 2 and gone in counting_pids()
        assert get("/readyz")[0] == 200

        # A deploy's SIGTERM while a webhook is in flight (its reply to LINE is slow): gunicorn
        # lets it finish, LINE gets its 200 and the person their reply, then it exits cleanly.
        newcomer = "U" + "e" * 32
        follow = ev.follow_event(newcomer, emulator.issue_reply_token(newcomer))
        body = ev.encode_body(ev.callback_body([follow]))
        answers: list[int] = []
        emulator.delay = 1.5

        def in_flight() -> None:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/callback", data=body, headers={
                "Content-Type": "application/json", "X-Line-Signature": ev.sign(body, SECRET)})
            with urllib.request.urlopen(request, timeout=30) as answer:
                answers.append(answer.status)

        import threading

        thread = threading.Thread(target=in_flight)
        thread.start()
        deadline = time.monotonic() + 15
        while not handled(follow["webhookEventId"]):  # committed: it is waiting on its reply now
            assert time.monotonic() < deadline, "the webhook never reached its reply"
            time.sleep(0.02)
        web.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
        assert answers == [200]
        assert web.wait(timeout=30) == 0
        assert emulator.messages_for(newcomer)  # the reply went out
    finally:
        emulator.delay = 0.0
        web.send_signal(signal.SIGTERM)
        try:
            assert web.wait(timeout=30) == 0
        finally:
            if web.poll() is None:
                web.kill()
                web.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(settings) -> dict[str, str]:
    return {"DATABASE_URL": settings.database_url, "LINE_CHANNEL_SECRET": settings.channel_secret,
            "LINE_CHANNEL_ACCESS_TOKEN": settings.channel_access_token,
            "LINE_API_BASE_URL": settings.line_api_base_url, "KHABUAN_INSTANCE_PATH": str(settings.instance_path),
            "BOT_QUIET_HOURS": "00:00-00:00", "PYTHONPATH": str(ROOT)}


# ---- /healthz and /readyz ----------------------------------------------------------------------


def test_ready_when_the_database_is_at_head(app):
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    answer = client.get("/readyz")
    assert (answer.status_code, answer.json) == (200, {"status": "ok"})


def test_not_ready_while_migrations_are_pending(settings, tmp_path):
    empty = create_app(dataclasses.replace(settings, database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    client = empty.test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json["status"] == "migrations pending"
    assert answer.json["database"] == [] and len(answer.json["code"]) == 1
    assert client.get("/healthz").status_code == 200  # alive all the same: nothing to restart
    empty.extensions["khabuan"].engine.dispose()


def test_not_ready_without_a_database(settings):
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:9/khabuan?connect_timeout=2"
    gone = create_app(dataclasses.replace(settings, database_url=unreachable))
    client = gone.test_client()
    answer = client.get("/readyz")
    assert (answer.status_code, answer.json) == (503, {"status": "database unavailable"})
    assert client.get("/healthz").status_code == 200
    gone.extensions["khabuan"].engine.dispose()


# ---- logs ----------------------------------------------------------------------------------------


def test_a_whole_conversation_logs_one_line_per_event_and_nothing_personal(chat, db, emulator, caplog, frozen_now):
    caplog.set_level(logging.DEBUG)
    leader = report_with_a_photo(chat, db, emulator)
    leader.say("ข้อมูลของฉัน")  # shows the name and phone back to their owner
    records = caplog.records
    assert records
    json_formatter, text_formatter = logs.JsonFormatter(), logs.TextFormatter()
    for record in records:
        rendered = json_formatter.format(record) + "\n" + text_formatter.format(record)
        for secret in (*NAME.split(), *PHONE_FORMS, DESCRIPTION, *DESCRIPTION.split()[1:]):
            assert secret not in rendered, f"{secret!r} logged by {record.name}: {rendered}"
    events = [r for r in records if r.name == "bot.webhook" and getattr(r, "webhook_event_id", None)]
    posted = chat.posted_event_ids
    assert len(events) == len(posted)  # one line per event, no more, no fewer
    assert [e.webhook_event_id for e in events] == posted
    line = json.loads(json_formatter.format(events[-1]))
    assert line["event_type"] == "message.text" and line["outcome"] == "handled"
    assert line["webhook_event_id"] == posted[-1] and isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO" and line["logger"] == "bot.webhook"


def test_log_format_and_level_settings():
    assert load_settings({"LOG_FORMAT": "json", "LOG_LEVEL": "debug"}).log_format == "json"
    assert load_settings({}).log_format == "text" and load_settings({}).log_level == "INFO"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_settings({"LOG_LEVEL": "chatty"})
    with pytest.raises(ConfigError, match="MEDIA_STORAGE_URL"):
        load_settings({"MEDIA_STORAGE_URL": "/var/media"})
    with pytest.raises(ConfigError, match="MEDIA_S3_ENDPOINT_URL"):
        load_settings({"MEDIA_STORAGE_URL": "s3://b", "MEDIA_S3_ENDPOINT_URL": "minio:9000"})


def test_text_lines_carry_the_fields_and_json_lines_parse():
    record = logging.LogRecord("bot.webhook", logging.INFO, __file__, 1, "webhook event %s", ("e1",), None)
    record.outcome, record.duration_ms = "handled", 3.5
    assert logs.TextFormatter().format(record).endswith("webhook event e1 [outcome=handled duration_ms=3.5]")
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["message"] == "webhook event e1" and entry["outcome"] == "handled" and entry["duration_ms"] == 3.5


# ---- media stores --------------------------------------------------------------------------------


def test_local_store_round_trip_and_keys_never_escape(tmp_path):
    store = LocalMediaStore(tmp_path / "media")
    store.put("reports/2026/11/a.jpg", JPEG, "image/jpeg")
    assert store.get("reports/2026/11/a.jpg") == JPEG and store.get("reports/none.jpg") is None
    assert [o.key for o in store.list("reports/")] == ["reports/2026/11/a.jpg"]
    assert not list((tmp_path / "media").rglob("*.part"))  # the temporary name is gone
    store.delete("reports/2026/11/a.jpg")
    store.delete("reports/2026/11/a.jpg")  # already gone: fine
    assert list(store.list("reports/")) == []
    for bad in ("../etc/passwd", "/etc/passwd", "reports//a.jpg", "reports/./a.jpg", ""):
        with pytest.raises(ValueError):
            check_key(bad)


@pytest.fixture
def s3_server(monkeypatch):
    """A real S3-compatible HTTP server (moto's), with a bucket; its endpoint URL."""
    server_mod = pytest.importorskip("moto.server", reason="moto[server] (a test extra) is not installed")
    for name, val in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                      "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, val)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="khabuan-media")
        yield endpoint
    finally:
        server.stop()


def test_a_photo_saved_by_one_host_is_read_by_another(app, settings, emulator, s3_server, tmp_path):
    def host(name: str):
        return create_app(dataclasses.replace(settings, instance_path=tmp_path / name,
                                              media_storage_url="s3://khabuan-media/photos",
                                              media_s3_endpoint_url=s3_server))

    first, second = host("host-a"), host("host-b")
    try:
        assert isinstance(first.extensions["khabuan"].media, S3MediaStore)
        chat = Chat(first, emulator, SECRET)
        with first.extensions["khabuan"].session_factory() as db:
            report_with_a_photo(chat, db, emulator, message_id="m-s3-photo")
            photo = db.scalar(select(ReportPhoto))
        assert photo.path.startswith("reports/") and photo.path.endswith(".jpg")
        other = second.extensions["khabuan"]
        assert other.media.get(photo.path) == JPEG  # another host, another instance folder
        assert not (tmp_path / "host-a" / "media").exists() and not (tmp_path / "host-b" / "media").exists()
        import boto3

        keys = [o["Key"] for o in boto3.client("s3", endpoint_url=s3_server).list_objects_v2(
            Bucket="khabuan-media")["Contents"]]
        assert keys == [f"photos/{photo.path}"]
        # Housekeeping on the second host: the report's photo stays, bytes no row names go.
        other.media.put("reports/stray.jpg", JPEG, "image/jpeg")
        # The store's clock, not ours, dates what it holds: two days after its latest write.
        later = max(o.modified_at for o in other.media.list("reports/")) + timedelta(days=2)
        assert sweep_photos(other, later) == 1
        assert other.media.get(photo.path) == JPEG and other.media.get("reports/stray.jpg") is None
    finally:
        for application in (first, second):
            application.extensions["khabuan"].gateway.close()
            application.extensions["khabuan"].engine.dispose()


def test_unlinked_photos_are_swept_after_a_week(app, services, chat, db, emulator, frozen_now):
    leader = register(chat, name=NAME, phone=PHONE)
    make_org(db, U1, "ออมทรัพย์บ้านห้วยทราย")
    answer_until_photos(leader, org=None)
    emulator.add_content("m-left", JPEG, "image/jpeg")
    leader.image("m-left")
    leader.say("ยกเลิก")  # the report is never saved: its photo belongs to nothing
    db.rollback()
    photo = db.scalar(select(ReportPhoto))
    key = photo.path
    assert photo.report_id is None and services.media.get(key) == JPEG
    assert sweep_photos(services, frozen_now + timedelta(days=6)) == 0  # the person may still come back
    assert sweep_photos(services, frozen_now + timedelta(days=8)) == 1
    db.rollback()
    assert db.scalar(select(func.count()).select_from(ReportPhoto)) == 0
    assert services.media.get(key) is None


def test_the_default_store_is_the_instance_folder(settings):
    store = media_store(settings)
    assert isinstance(store, LocalMediaStore) and store.root == settings.instance_path / "media"
    assert media_store(settings) is store  # one per process


# ---- graceful shutdown -----------------------------------------------------------------------------


@pytest.fixture
def postgres_only(services):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: a worker process and this test sending from one SQLite file is not a "
                    "supported setup (SKIP LOCKED claims are what lets several senders share the outbox)")


@pytest.mark.real_clock
def test_a_sigtermed_worker_finishes_its_push_releases_the_rest_and_exits_0(postgres_only, services, emulator,
                                                                            settings, tmp_path):
    users = [f"U{n:032x}" for n in range(1, 11)]
    with services.session_factory() as session, session.begin():
        for u in users:
            enqueue(session, [u], [ui.text(f"ถึง {u[-4:]}")], now=utcnow(), kind="test.notice")
    emulator.delay = 0.4  # LINE is slow: the deploy's SIGTERM lands in the middle of the batch
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "worker", "--no-scheduler", "--poll", "0.2"],
        cwd=ROOT, env={**os.environ, **_env(settings)}, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        deadline = time.monotonic() + 45
        while len([r for r in emulator.requests if r.path == PUSH]) < 3:
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    stopped = utcnow()
    emulator.delay = 0.0
    pushed = len([r for r in emulator.requests if r.path == PUSH])
    with services.session_factory() as session:
        sent = session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == OutboxStatus.SENT))
        pending = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)))
    assert sent == pushed and 3 <= sent < 10  # the push in flight was finished and recorded
    assert pending and all(r.claimed_until is None and r.attempts == 0 for r in pending)  # released, not held
    stats = services.sender.deliver(now=stopped)  # another worker takes them at once, not after the lease
    assert (stats.claimed, stats.delivered) == (len(pending), len(pending))
    for u in users:
        assert [m["text"] for m in emulator.messages_for(u)] == [f"ถึง {u[-4:]}"]  # each once
    assert len([r for r in emulator.requests if r.path == PUSH]) == 10  # no push went twice
    assert "stopped" in log.read_text()


# ---- deployment files ---------------------------------------------------------------------------------


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_compose_runs_what_the_procfile_runs_with_health_checks():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "release", "web", "worker"}
    processes = procfile()

    def command(service: str) -> str:
        cmd = services[service]["command"]
        return " ".join(cmd) if isinstance(cmd, list) else cmd

    assert processes["release"] in command("release")
    assert "khabuan worker" in command("worker") and processes["worker"] in command("worker")
    assert "gunicorn -c gunicorn.conf.py" in command("web") and "bot.app:create_app()" in command("web")
    assert "gunicorn -c gunicorn.conf.py" in processes["web"]
    for name in ("postgres", "web", "worker"):
        check = services[name]["healthcheck"]
        assert check["test"] and check["interval"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["release"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["release"]["condition"] == "service_completed_successfully"
    media = services["web"]["volumes"][0].split(":")[0]
    assert media in (v.split(":")[0] for v in services["worker"]["volumes"])  # one media store for both


def test_dockerfile_is_slim_non_root_with_the_thai_font_and_the_procfile_web():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert "USER khabuan" in dockerfile and "useradd" in dockerfile
    assert "fontpkg_sarabun" in dockerfile  # the font ships with the package, checked at build time
    assert "STOPSIGNAL SIGTERM" in dockerfile and "COPY gunicorn.conf.py" in dockerfile
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "bot.app:create_app()"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "instance" in ignored and ".git" in ignored


def test_ci_builds_the_image_only_where_docker_runs():
    script = (ROOT / ".ci" / "run").read_text()
    assert "docker info" in script and "skipped: no Docker daemon" in script


def test_the_operations_guide_names_every_setting():
    """docs/OPERATIONS.md's configuration table keeps up with bot/config.py."""
    import re

    read = set(re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "bot" / "config.py").read_text()))
    assert {"LINE_CHANNEL_SECRET", "DATABASE_URL", "METRICS_TOKEN", "MEDIA_STORAGE_URL"} <= read
    guide = (ROOT / "docs" / "OPERATIONS.md").read_text()
    assert not [name for name in sorted(read) if f"| `{name}` |" not in guide]
    assert "docs/OPERATIONS.md" in (ROOT / "README.md").read_text()
    assert "OPERATIONS.md" in (ROOT / "docs" / "ARCHITECTURE.md").read_text()
