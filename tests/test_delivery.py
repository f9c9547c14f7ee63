"""The outbox sender against the LINE emulator: exactly once, retries, quiet hours, quota, batching."""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from bot import ui
from bot.cli import main as khabuan
from bot.delivery import Sender, enqueue, enqueue_users
from bot.delivery.quiet import in_quiet_hours, quiet_ends_at
from bot.delivery.quota import NOTICE_KIND
from bot.delivery.ratelimit import TokenBucket
from bot.delivery.sender import LEASE, QUOTA_WAIT, RENEW_EVERY
from bot.line import LineGateway
from bot.models import Member, OutboxMessage, OutboxStatus, Priority, Role, RoleGrant, ScopeKind, utcnow

BKK = ZoneInfo("Asia/Bangkok")
PUSH = "/v2/bot/message/push"
MULTICAST = "/v2/bot/message/multicast"


def user(n: int) -> str:
    return f"U{n:032x}"


def queue(services, recipients, body="ประชุมสมัชชาพรุ่งนี้ 9 โมง", **kwargs) -> list[int]:
    kwargs.setdefault("kind", "test.notice")
    kwargs.setdefault("now", utcnow())
    with services.session_factory() as session, session.begin():
        rows = enqueue(session, recipients, [ui.text(body)], **kwargs)
        return [r.id for r in rows]


def row(services, row_id: int) -> OutboxMessage:
    with services.session_factory() as session:
        return session.get(OutboxMessage, row_id)


def drain(sender: Sender, services, *, start: datetime | None = None, rounds: int = 40) -> datetime:
    """Deliver until nothing is pending, jumping the clock to each row's next attempt (backoff)."""
    now = start or utcnow()
    for _ in range(rounds):
        sender.deliver(now=now)
        with services.session_factory() as session:
            due = session.scalar(select(func.min(OutboxMessage.next_attempt_at))
                                 .where(OutboxMessage.status == OutboxStatus.PENDING))
        if due is None:
            return now
        now = max(now, due) + timedelta(seconds=1)
    raise AssertionError("outbox did not drain")


def texts(emulator, chat_id: str) -> list[str]:
    return [m["text"] for m in emulator.messages_for(chat_id)]


@pytest.fixture
def quota_limit(emulator):
    """Set the emulator's monthly quota for one test; restored afterwards (the emulator is shared)."""
    before = emulator.quota_limit

    def set_limit(limit: int | None) -> None:
        emulator.quota_limit = limit

    yield set_limit
    emulator.quota_limit = before


@pytest.fixture
def quiet(services):
    """The app's sender with 21:00–07:00 quiet hours (the suite runs without any by default)."""
    settings = dataclasses.replace(services.settings, quiet_start=clock(21), quiet_end=clock(7))
    services.settings = services.sender.settings = settings
    return services.sender


# ---- exactly once ------------------------------------------------------------------------------


def test_push_goes_once_and_is_recorded(services, emulator):
    [row_id] = queue(services, [user(1)])
    stats = services.sender.deliver()
    assert (stats.claimed, stats.delivered) == (1, 1)
    assert texts(emulator, user(1)) == ["ประชุมสมัชชาพรุ่งนี้ 9 โมง"]
    sent = row(services, row_id)
    assert sent.status is OutboxStatus.SENT and sent.attempts == 1 and sent.sent_at is not None
    assert services.sender.deliver().claimed == 0  # nothing left: not sent again


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_and_deliver_once(services, emulator, status):
    [row_id] = queue(services, [user(1)])
    emulator.fail_next(PUSH, status, times=3)
    drain(services.sender, services)
    assert texts(emulator, user(1)) == ["ประชุมสมัชชาพรุ่งนี้ 9 โมง"]
    sent = row(services, row_id)
    assert sent.status is OutboxStatus.SENT and sent.attempts == 4
    keys = {r.retry_key for r in emulator.requests if r.path == PUSH}
    assert keys == {sent.retry_key}  # every attempt carried the row's one retry key


def test_429_honours_retry_after(services, emulator):
    [row_id] = queue(services, [user(1)])
    emulator.fail_next(PUSH, 429, retry_after=120)
    now = utcnow()
    stats = services.sender.deliver(now=now)
    assert stats.retrying == 1
    waiting = row(services, row_id)
    assert waiting.next_attempt_at == now + timedelta(seconds=120)
    assert waiting.last_error.startswith("429")
    assert services.sender.deliver(now=now + timedelta(seconds=119)).claimed == 0  # not before LINE said
    assert services.sender.deliver(now=now + timedelta(seconds=121)).delivered == 1
    assert texts(emulator, user(1)) == ["ประชุมสมัชชาพรุ่งนี้ 9 โมง"]


def test_timeout_after_line_accepted_is_a_409_on_retry_and_delivered_once(services, emulator):
    """The dangerous case: LINE delivered, we timed out. The retry key turns the retry into a 409."""
    [row_id] = queue(services, [user(1)])
    services.gateway.timeout = (1.0, 0.3)
    emulator.fail_next(PUSH, 0, delay=0.8)  # LINE answers (and delivers) after we gave up
    stats = services.sender.deliver()
    assert stats.retrying == 1 and row(services, row_id).last_error.startswith("0: network")
    deadline = time.monotonic() + 5
    while not emulator.messages_for(user(1)) and time.monotonic() < deadline:
        time.sleep(0.05)  # the emulator finishes the slow request on its own thread
    drain(services.sender, services)
    assert [r.status for r in emulator.requests if r.path == PUSH] == [200, 409]
    assert texts(emulator, user(1)) == ["ประชุมสมัชชาพรุ่งนี้ 9 โมง"]
    assert row(services, row_id).status is OutboxStatus.SENT


def test_mixed_faults_on_many_rows_every_message_exactly_once(services, emulator):
    users = [user(n) for n in range(1, 31)]
    ids = [i for u in users for i in queue(services, [u], body=f"ถึง {u[-4:]}")]
    emulator.fail_next(PUSH, 500, times=4)
    emulator.fail_next(PUSH, 429, times=3, retry_after=1)
    emulator.fail_next(PUSH, 503, times=2)
    drain(services.sender, services)
    for u in users:
        assert texts(emulator, u) == [f"ถึง {u[-4:]}"]
    with services.session_factory() as session:
        statuses = set(session.scalars(select(OutboxMessage.status).where(OutboxMessage.id.in_(ids))))
    assert statuses == {OutboxStatus.SENT}


def test_400_is_not_retried_and_is_logged_without_recipients(services, emulator, caplog):
    [row_id] = queue(services, [user(7)], body="ข้อความที่ LINE ไม่รับ")
    emulator.fail_next(PUSH, 400)
    with caplog.at_level(logging.ERROR, logger="bot.delivery.sender"):
        stats = services.sender.deliver()
    assert stats.failed == 1
    failed = row(services, row_id)
    assert failed.status is OutboxStatus.FAILED and failed.attempts == 1 and failed.last_error.startswith("400")
    drain(services.sender, services, start=utcnow() + timedelta(days=1))
    assert len([r for r in emulator.requests if r.path == PUSH]) == 1  # never retried
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert '"type": "text"' in logged and "<22 chars>" in logged  # the body's shape, to find the bug
    assert "ข้อความที่ LINE ไม่รับ" not in logged  # not its words (they may name people)
    assert user(7) not in logged  # nor who it was for


def test_gives_up_after_max_attempts_then_operator_retries_with_same_key(app, services, emulator):
    [row_id] = queue(services, [user(1)])
    emulator.fail_next(PUSH, 500, times=services.sender.max_attempts)
    drain(services.sender, services)
    failed = row(services, row_id)
    assert failed.status is OutboxStatus.FAILED and failed.attempts == services.sender.max_attempts
    assert failed.last_error.startswith("500") and emulator.messages_for(user(1)) == []

    runner = app.test_cli_runner()
    listing = runner.invoke(khabuan, ["outbox"])
    assert listing.exit_code == 0, listing.output
    assert f"{row_id}" in listing.output and "failed" in listing.output and "500" in listing.output
    assert user(1) not in listing.output and "ประชุม" not in listing.output  # no personal data

    retried = runner.invoke(khabuan, ["outbox", "retry", str(row_id)])
    assert retried.exit_code == 0, retried.output
    again = row(services, row_id)
    assert again.status is OutboxStatus.PENDING and again.retry_key == failed.retry_key
    services.sender.deliver()
    assert texts(emulator, user(1)) == ["ประชุมสมัชชาพรุ่งนี้ 9 โมง"]
    assert runner.invoke(khabuan, ["outbox", "retry", str(row_id)]).exit_code != 0  # sent: nothing to retry


def test_a_row_that_cannot_be_rebuilt_fails_alone(services, emulator):
    with services.session_factory() as session, session.begin():
        broken = OutboxMessage(kind="legacy", recipients=[user(1)], messages=[{"type": "no-such-type"}],
                               next_attempt_at=utcnow(), created_at=utcnow())
        session.add(broken)
    [good] = queue(services, [user(2)])
    stats = services.sender.deliver()
    assert (stats.failed, stats.delivered) == (1, 1)
    failed = row(services, broken.id)
    assert failed.status is OutboxStatus.FAILED and failed.last_error.startswith("-1: unsendable")
    assert row(services, good).status is OutboxStatus.SENT


# ---- leases: concurrent senders, a crashed sender -----------------------------------------------


def test_two_senders_draining_the_same_300_rows_deliver_each_once(services, emulator, settings):
    users = [user(n) for n in range(1000, 1300)]
    for u in users:
        queue(services, [u], body=f"ถึง {u[-4:]}")
    senders = [Sender(services.session_factory, LineGateway(settings), services.settings, rate_per_second=10_000)
               for _ in range(2)]
    errors: list[BaseException] = []

    def run(sender: Sender) -> None:
        try:
            while sender.deliver(limit=20).claimed:
                pass
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for u in users:
        assert texts(emulator, u) == [f"ถึง {u[-4:]}"]
    pushes = [r for r in emulator.requests if r.path == PUSH]
    assert len(pushes) == 300 and all(r.status == 200 for r in pushes)  # no row was even tried twice
    for s in senders:
        s.gateway.close()


def test_a_claim_leases_at_most_one_batch(services):
    """A worker must not lease the whole backlog (it could not send it before the lease expires)."""
    with services.session_factory() as session, session.begin():
        enqueue_users(session, (user(n) for n in range(60_000)), [ui.text("รายงาน")], now=utcnow(),
                      kind="reminder")
    first = services.sender.claim(limit=50)
    second = services.sender.claim(limit=50)
    assert (len(first), len(second)) == (50, 50)
    assert not {r.id for r in first} & {r.id for r in second}
    assert len(services.sender.claim(limit=50)) == 20


def test_sender_killed_mid_batch_is_finished_by_another_exactly_once(services, emulator, settings):
    users = [user(n) for n in range(1, 6)]
    ids = [i for u in users for i in queue(services, [u], body=f"ถึง {u[-4:]}")]
    dead = Sender(services.session_factory, LineGateway(settings), services.settings)
    now = utcnow()
    claimed = dead.claim(now=now)
    assert sorted(r.id for r in claimed) == sorted(ids)
    for r in claimed[:3]:  # sent three, then died before recording anything
        assert dead.send(r).ok

    survivor = services.sender
    assert survivor.deliver(now=now + LEASE / 2).claimed == 0  # leased rows are untouchable
    stats = survivor.deliver(now=now + LEASE + timedelta(seconds=1))
    assert (stats.claimed, stats.delivered) == (5, 5)
    for u in users:
        assert texts(emulator, u) == [f"ถึง {u[-4:]}"]
    assert sorted(r.status for r in emulator.requests if r.path == PUSH) == [200] * 5 + [409] * 3

    # The dead sender's late record (had it only stalled) is ignored: the lease is no longer its own.
    dead.record(claimed[3].id, claimed[3].claim_token, dead.send(claimed[3]))
    assert row(services, claimed[3].id).attempts == 1
    dead.gateway.close()


def test_lease_timing_with_injected_time(services, emulator, settings):
    """A dead sender's rows are free LEASE after its last renewal (within 30 s); renewing keeps them."""
    assert LEASE <= timedelta(seconds=30) and RENEW_EVERY + timedelta(seconds=13.05) < LEASE
    ids = [i for n in range(1, 4) for i in queue(services, [user(n)])]
    t0 = utcnow()
    holder, rival = services.sender, Sender(services.session_factory, services.gateway, services.settings)
    claimed = holder.claim(now=t0)
    token = claimed[0].claim_token
    assert sorted(r.id for r in claimed) == sorted(ids)
    assert rival.claim(now=t0 + LEASE - timedelta(seconds=1)) == []
    # A heartbeat at t0 + 15 s: the rows stay leased past t0 + LEASE.
    assert holder.renew(token, t0 + timedelta(seconds=15)) == set(ids)
    assert rival.claim(now=t0 + LEASE + timedelta(seconds=1)) == []
    # Then the holder dies (no more heartbeats): another sender has them 30 s after the death.
    died = t0 + timedelta(seconds=15)
    assert rival.claim(now=died + LEASE - timedelta(seconds=1)) == []
    taken = rival.claim(now=died + timedelta(seconds=30))
    assert sorted(r.id for r in taken) == sorted(ids)
    # The old holder, had it only stalled, finds nothing left to renew: the rows are the rival's.
    assert holder.renew(token, died + timedelta(seconds=31)) == set()
    assert row(services, ids[0]).claim_token == taken[0].claim_token


def test_a_live_slow_sender_keeps_its_rows_through_a_long_batch(services, emulator, settings):
    """Sending takes 6 s per request here (the clock says so): 6 rows take over a minute, three
    leases' worth, and a rival trying all along never gets one row."""
    users = [user(n) for n in range(1, 7)]
    for u in users:
        queue(services, [u], body=f"ถึง {u[-4:]}")
    rival = Sender(services.session_factory, services.gateway, services.settings)
    start = utcnow()
    moment = [start]
    stolen: list[int] = []

    def clock() -> datetime:  # each reading is 6 s later; after the first (the claim's), a rival tries too
        if moment[0] > start:
            stolen.extend(r.id for r in rival.claim(now=moment[0] + timedelta(seconds=6)))
        moment[0] += timedelta(seconds=6)
        return moment[0]

    slow = Sender(services.session_factory, services.gateway, services.settings, clock=clock)
    stats = slow.deliver()
    assert moment[0] - start > LEASE * 3
    assert stolen == [] and (stats.claimed, stats.delivered, stats.lost) == (6, 6, 0)
    for u in users:
        assert texts(emulator, u) == [f"ถึง {u[-4:]}"]


def test_a_batch_sent_at_a_fixed_now_still_renews_its_lease(services, emulator):
    """The webhook delivers right after its response with now= fixed; a long batch must renew anyway."""
    users = [user(n) for n in range(1, 7)]
    start = utcnow()
    for u in users:
        queue(services, [u], body=f"ถึง {u[-4:]}", now=start)
    sender = Sender(services.session_factory, services.gateway, services.settings)
    elapsed = iter(range(0, 600, 6))  # each reading of the real clock is 6 s later
    sender.monotonic = lambda: next(elapsed)
    renewals: list[datetime] = []
    renew = sender.renew
    sender.renew = lambda token, now: renewals.append(now) or renew(token, now)
    stats = sender.deliver(now=start)
    assert (stats.claimed, stats.delivered, stats.lost) == (6, 6, 0)
    assert len(renewals) >= 5 and renewals == sorted(renewals) and renewals[-1] - start > LEASE


@pytest.fixture
def postgres_only(services):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: a second process sending from the same SQLite file is not a supported setup "
                    "(SKIP LOCKED claims are what lets several workers share the outbox)")


def test_a_sigkilled_worker_process_rows_go_out_within_30_s_exactly_once(postgres_only, services, emulator, settings,
                                                                           tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    users = [user(n) for n in range(1, 11)]
    for u in users:
        queue(services, [u], body=f"ถึง {u[-4:]}")
    emulator.delay = 0.4  # LINE is slow today: the worker is killed in the middle of its batch
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": settings.database_url, "LINE_CHANNEL_SECRET": settings.channel_secret,
           "LINE_CHANNEL_ACCESS_TOKEN": settings.channel_access_token,
           "LINE_API_BASE_URL": settings.line_api_base_url, "KHABUAN_INSTANCE_PATH": str(settings.instance_path),
           "BOT_QUIET_HOURS": "00:00-00:00", "PYTHONPATH": str(root)}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "worker", "--no-scheduler", "--poll", "0.2"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        deadline = time.monotonic() + 30
        while len([r for r in emulator.requests if r.path == PUSH]) < 3:
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    killed = utcnow()
    time.sleep(emulator.delay + 0.5)  # a request in flight at the kill reaches LINE (the emulator) anyway
    emulator.delay = 0.0
    with services.session_factory() as session:
        left = session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == OutboxStatus.PENDING))
        leased = session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status == OutboxStatus.PENDING,
                                       OutboxMessage.claimed_until > killed))
    assert 0 < left < 10 and leased == left  # killed mid-batch, holding the rest of it

    survivor = services.sender
    assert survivor.deliver(now=killed + timedelta(seconds=1)).claimed == 0  # still the dead worker's
    stats = survivor.deliver(now=killed + timedelta(seconds=30))
    assert (stats.claimed, stats.delivered) == (left, left)
    for u in users:
        assert texts(emulator, u) == [f"ถึง {u[-4:]}"]  # each push once
    accepted = [r for r in emulator.requests if r.path == PUSH and r.status == 200]
    assert len(accepted) == 10  # a row sent just before the kill came back as 409, not a second push
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status != OutboxStatus.SENT)) == 0


# ---- multicast batching ---------------------------------------------------------------------------


def test_1201_users_go_as_three_multicasts(services, emulator, quota_limit):
    quota_limit(None)
    users = [user(n) for n in range(1, 1202)]
    ids = queue(services, users, kind="reminder", priority=Priority.LOW)
    assert [row(services, i).cost for i in ids] == [500, 500, 201]
    drain(services.sender, services)
    multicasts = [r for r in emulator.requests if r.path == MULTICAST]
    assert [len(r.json["to"]) for r in multicasts] == [500, 500, 201]
    assert len(emulator.delivered) == 1201
    assert {d.chat_id for d in emulator.delivered} == set(users)


def test_enqueue_users_streams_batches_and_dedupes(services):
    with services.session_factory() as session, session.begin():
        made = enqueue_users(session, (user(n) for n in range(1, 1202)), [ui.text("รายงานประจำเดือน")],
                             now=utcnow(), kind="reminder", priority=Priority.LOW, dedupe_key="reminder:2026-11")
        again = enqueue_users(session, (user(n) for n in range(1, 1202)), [ui.text("รายงานประจำเดือน")],
                              now=utcnow(), kind="reminder", priority=Priority.LOW, dedupe_key="reminder:2026-11")
    assert (made, again) == (3, 0)
    with services.session_factory() as session:
        costs = session.scalars(select(OutboxMessage.cost).order_by(OutboxMessage.id)).all()
    assert costs == [500, 500, 201]


# ---- quiet hours ------------------------------------------------------------------------------------


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BKK)


@pytest.mark.parametrize(("start", "end", "moment", "quiet", "ends"), [
    ((21, 0), (7, 0), at(20, 59), False, at(20, 59)),
    ((21, 0), (7, 0), at(21, 0), True, at(7, 0, day=26)),
    ((21, 0), (7, 0), at(23, 59), True, at(7, 0, day=26)),
    ((21, 0), (7, 0), at(0, 0), True, at(7, 0)),
    ((21, 0), (7, 0), at(6, 59), True, at(7, 0)),
    ((21, 0), (7, 0), at(7, 0), False, at(7, 0)),
    ((12, 0), (13, 0), at(12, 30), True, at(13, 0)),  # a window that does not cross midnight
    ((12, 0), (13, 0), at(23, 0), False, at(23, 0)),
    ((0, 0), (0, 0), at(3, 0), False, at(3, 0)),  # equal ends: no quiet hours
])
def test_quiet_hours_window(start, end, moment, quiet, ends):
    s, e = clock(*start), clock(*end)
    assert in_quiet_hours(moment.astimezone(timezone.utc), s, e, BKK) is quiet
    assert quiet_ends_at(moment.astimezone(timezone.utc), s, e, BKK) == ends.astimezone(timezone.utc)


def test_quiet_hours_hold_non_urgent_across_midnight_and_urgent_goes(services, emulator, quiet, app):
    with time_machine.travel(at(22, 30), tick=False):
        [calm] = queue(services, [user(1)], body="สรุปประจำวัน")
        [alarm] = queue(services, [user(2)], body="ด่วน: เลื่อนประชุม", urgent=True)
        stats = quiet.deliver()
        assert (stats.claimed, stats.delivered) == (1, 1)
        assert texts(emulator, user(2)) == ["ด่วน: เลื่อนประชุม"] and texts(emulator, user(1)) == []
        listing = app.test_cli_runner().invoke(khabuan, ["outbox"])
        assert "2026-11-26 07:00" in listing.output  # operators see when it will really go
    for moment in (at(23, 59), at(0, 1, day=26), at(6, 59, day=26)):
        with time_machine.travel(moment, tick=False):
            assert quiet.deliver().claimed == 0
    with time_machine.travel(at(7, 0, day=26), tick=False):
        assert quiet.deliver().delivered == 1
    assert texts(emulator, user(1)) == ["สรุปประจำวัน"]
    assert row(services, calm).status is row(services, alarm).status is OutboxStatus.SENT


def test_deliver_now_after_a_webhook_respects_quiet_hours(services, emulator, quiet):
    with time_machine.travel(at(21, 15), tick=False):
        ids = queue(services, [user(1)], body="ผลการรับรององค์กร") + queue(
            services, [user(2)], body="เปิดลงคะแนน", urgent=True, priority=Priority.HIGH)
        services.deliver_now(ids)  # what the webhook calls right after the event commits
        assert texts(emulator, user(2)) == ["เปิดลงคะแนน"] and texts(emulator, user(1)) == []
    with time_machine.travel(at(7, 1, day=26), tick=False):
        services.deliver_now(ids[:1])
    assert texts(emulator, user(1)) == ["ผลการรับรององค์กร"]


# ---- monthly quota -------------------------------------------------------------------------------------


def add_secretariat(services, line_user_id: str, locale: str = "th", scope: ScopeKind = ScopeKind.NATIONAL,
                    code: str = "") -> None:
    with services.session_factory() as session, session.begin():
        member = Member(line_user_id=line_user_id, locale=locale, registered_at=utcnow(), consent_at=utcnow())
        session.add(member)
        session.flush()
        session.add(RoleGrant(member_id=member.id, role=Role.SECRETARIAT, scope_kind=scope, scope_code=code))


SECRETARIAT = "U" + "5" * 32


def notices(services) -> list[OutboxMessage]:
    with services.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == NOTICE_KIND)))


def test_quota_short_low_priority_waits_high_goes_and_secretariat_told_once(
        services, emulator, quota_limit, settings, app, frozen_now):
    # Frozen: the quota is per Bangkok month, and this test spans minutes (a month end must not
    # fall between the pushes and the `khabuan quota` report).
    quota_limit(10)
    services.sender.quota.refresh_seconds = 0  # ask the emulator every batch
    add_secretariat(services, SECRETARIAT)
    add_secretariat(services, "U" + "6" * 32, scope=ScopeKind.REGION, code="north")  # not national: not told
    reminder = queue(services, [user(n) for n in range(1, 9)], body="อย่าลืมส่งรายงาน", kind="reminder",
                     priority=Priority.LOW)
    ballots = [i for n in (20, 21, 22) for i in queue(services, [user(n)], body="เปิดลงคะแนน",
                                                      priority=Priority.HIGH)]
    now = utcnow()
    stats = services.sender.deliver(now=now)
    # 10 left: the 3 ballots go (7 left), the 8-person reminder cannot fit and waits.
    assert (stats.delivered, stats.held) == (3, 1)
    for n in (20, 21, 22):
        assert texts(emulator, user(n)) == ["เปิดลงคะแนน"]
    assert all(row(services, i).status is OutboxStatus.SENT for i in ballots)
    waiting = row(services, reminder[0])
    assert waiting.status is OutboxStatus.PENDING and waiting.attempts == 0
    assert waiting.last_error == "waiting for quota" and waiting.next_attempt_at == now + QUOTA_WAIT
    # The secretariat's notice went at once, urgent and past the shortage it reports.
    [notice] = notices(services)
    assert notice.status is OutboxStatus.SENT and notice.urgent and notice.recipients == [SECRETARIAT]
    assert "โควตา" in texts(emulator, SECRETARIAT)[0] and "8" in texts(emulator, SECRETARIAT)[0]
    assert emulator.messages_for("U" + "6" * 32) == []

    # Still short later, and after a restart (a fresh Sender): nobody is told twice.
    later = now + QUOTA_WAIT + timedelta(seconds=1)
    assert services.sender.deliver(now=later).held == 1
    fresh = Sender(services.session_factory, services.gateway, services.settings)
    assert fresh.deliver(now=later + QUOTA_WAIT + timedelta(seconds=1)).held == 1
    assert len(notices(services)) == 1 and len(texts(emulator, SECRETARIAT)) == 1
    assert emulator.consumption == 4

    runner = app.test_cli_runner()
    report = runner.invoke(khabuan, ["quota"])
    assert report.exit_code == 0, report.output
    assert "used:      4" in report.output and "remaining: 6" in report.output
    assert "queued:    8 (high/normal 0, low 8)" in report.output

    quota_limit(100)  # next month, or a bigger plan
    fresh.quota.invalidate()  # as its once-a-minute refresh would
    drain(fresh, services, start=later + 2 * QUOTA_WAIT + timedelta(seconds=2))
    assert all(texts(emulator, user(n)) == ["อย่าลืมส่งรายงาน"] for n in range(1, 9))


def test_low_priority_leaves_room_for_pending_important_rows(services, emulator, quota_limit):
    quota_limit(10)
    services.sender.quota.refresh_seconds = 0
    # A certification outcome to 6 coordinators is retrying (not due yet); it still has first claim.
    important = queue(services, [user(n) for n in range(1, 7)], body="ผลการรับรอง", priority=Priority.NORMAL)
    digest = queue(services, [user(n) for n in range(10, 15)], body="สรุปประจำสัปดาห์", priority=Priority.LOW)
    now = utcnow()
    with services.session_factory() as session, session.begin():
        session.get(OutboxMessage, important[0]).next_attempt_at = now + timedelta(minutes=1)
    assert services.sender.deliver(now=now).held == 1  # 5 would fit in 10, but not beside the 6 reserved
    assert row(services, digest[0]).attempts == 0 and emulator.consumption == 0
    assert services.sender.deliver(now=now + timedelta(minutes=2)).delivered == 1  # the important one
    assert all(texts(emulator, user(n)) == ["ผลการรับรอง"] for n in range(1, 7))


def test_quota_notice_goes_even_when_almost_nothing_is_left(services, emulator, quota_limit):
    quota_limit(1)
    services.sender.quota.refresh_seconds = 0
    add_secretariat(services, SECRETARIAT, locale="en")
    queue(services, [user(1), user(2)], body="อย่าลืมส่งรายงาน", kind="reminder", priority=Priority.LOW)
    stats = services.sender.deliver()
    assert stats.held == 1
    [message] = emulator.messages_for(SECRETARIAT)
    assert "quota" in message["text"] and "1 messages left" in message["text"]  # in their language
    assert emulator.consumption == 1


def test_line_saying_monthly_limit_holds_the_row_without_burning_attempts(services, emulator, quota_limit):
    quota_limit(0)
    emulator.fail_next("/v2/bot/message/quota", 500)  # we can't read the quota, so we send and LINE decides
    [row_id] = queue(services, [user(1)], priority=Priority.HIGH)
    assert services.sender.deliver().held == 1
    held = row(services, row_id)
    assert held.status is OutboxStatus.PENDING and held.attempts == 0 and held.last_error == "waiting for quota"


# ---- rate limit --------------------------------------------------------------------------------------


def test_token_bucket_makes_a_burst_wait():
    bucket = TokenBucket(rate=5, burst=2)
    assert bucket.acquire() == 0 and bucket.acquire() == 0
    assert bucket.acquire() > 0  # the third request in the same instant waits for a token
