"""The worker: scheduler leader election, once-only job runs, misfire catch-up, graceful shutdown.

This module doubles as a job module for the worker processes it starts (`register_jobs` below),
so the "two workers" test can watch a job that fires every second.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.services import build_services
from bot.cli import main as khabuan
from bot.db import transaction
from bot.worker import LeaderLease, Worker, WorkerOptions
from bot.jobs import JobRegistry, JobSpec, build_scheduler, run_job, sync_jobs
from bot.schedule import build_registry
from bot.models import OutboxMessage, OutboxStatus, ProcessedEvent, utcnow
from bot.models.delivery import JobRun, SchedulerLease

ROOT = Path(__file__).resolve().parent.parent
KHABUAN = Path(sys.executable).with_name("khabuan")


def tick(_services, _fire_time: datetime) -> int:
    return 1


def register_jobs(registry: JobRegistry) -> None:
    """Loaded by the worker processes of test_two_workers_* through --job-module."""
    registry.add(JobSpec("tick", tick, {"second": "*"}, "test job: every second"))


def runs(services, name: str | None = None) -> list[JobRun]:
    with services.session_factory() as session:
        query = select(JobRun).order_by(JobRun.fire_time)
        if name is not None:
            query = query.where(JobRun.job_name == name)
        return list(session.scalars(query))


def wait_for(condition: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def counting_registry(trigger: dict | None = None, fail: bool = False) -> tuple[JobRegistry, list[datetime]]:
    calls: list[datetime] = []

    def job(_services, fire_time: datetime) -> int:
        calls.append(fire_time)
        if fail:
            raise RuntimeError("the digest template is broken")
        return len(calls)

    registry = JobRegistry()
    registry.add(JobSpec("count", job, trigger or {"minute": 0}, "test job"))
    return registry, calls


# ---- once-only runs -----------------------------------------------------------------------------


def test_double_fire_runs_the_job_once(services):
    registry, calls = counting_registry()
    spec = registry.get("count")
    fire = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
    first = run_job(services, spec, fire, "worker-a")
    second = run_job(services, spec, fire.astimezone(services.settings.timezone), "worker-b")  # same instant
    assert (first.ran, first.status, first.result) == (True, "done", 1)
    assert (second.ran, second.status) == (False, "skipped")
    assert len(calls) == 1
    [run] = runs(services)
    assert (run.runner, run.status, run.result, run.fire_time) == ("worker-a", "done", 1, fire)
    assert run.finished_at is not None


def test_racing_fires_from_two_threads_run_once(services):
    registry, calls = counting_registry()
    spec = registry.get("count")
    fire = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)
    barrier = threading.Barrier(2)
    outcomes = []

    def fire_once(name: str) -> None:
        barrier.wait()
        outcomes.append(run_job(services, spec, fire, name))

    threads = [threading.Thread(target=fire_once, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.ran for o in outcomes) == [False, True] and len(calls) == 1


def test_failed_job_is_recorded_and_not_rerun_for_that_fire_time(services):
    registry, calls = counting_registry(fail=True)
    spec = registry.get("count")
    fire = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)
    outcome = run_job(services, spec, fire, "worker-a")
    assert outcome.status == "failed" and "digest template" in outcome.error
    assert not run_job(services, spec, fire, "worker-a").ran
    [run] = runs(services)
    assert run.status == "failed" and "RuntimeError" in run.error and len(calls) == 1


def test_run_abandoned_by_a_killed_worker_is_taken_over_once(services):
    registry, calls = counting_registry()
    spec = registry.get("count")
    fire = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
    with services.session_factory() as session, session.begin():  # killed mid-job two hours ago
        session.add(JobRun(job_name="count", fire_time=fire, runner="dead", started_at=utcnow() - timedelta(hours=2)))
    assert run_job(services, spec, fire, "alive").status == "done"
    assert not run_job(services, spec, fire, "another").ran  # finished now: never again
    [run] = runs(services)
    assert (run.runner, run.status, len(calls)) == ("alive", "done", 1)


def test_a_recent_running_run_is_left_alone(services):
    registry, calls = counting_registry()
    fire = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)
    with services.session_factory() as session, session.begin():  # another worker is running it right now
        session.add(JobRun(job_name="count", fire_time=fire, runner="busy", started_at=utcnow()))
    assert not run_job(services, registry.get("count"), fire, "me").ran and calls == []


def test_jobs_cli_lists_and_runs_housekeeping(app, services):
    now = utcnow()
    with services.session_factory() as session, session.begin():
        session.add_all([
            ProcessedEvent(webhook_event_id="old", event_type="message", processed_at=now - timedelta(days=8)),
            ProcessedEvent(webhook_event_id="recent", event_type="message", processed_at=now - timedelta(days=1)),
            OutboxMessage(kind="old", recipients=["U1"], messages=[{"type": "text", "text": "x"}],
                          status=OutboxStatus.SENT, sent_at=now - timedelta(days=31),
                          next_attempt_at=now - timedelta(days=31), created_at=now - timedelta(days=31)),
            OutboxMessage(kind="pending", recipients=["U2"], messages=[{"type": "text", "text": "y"}],
                          next_attempt_at=now - timedelta(days=40), created_at=now - timedelta(days=40)),
        ])
    runner = app.test_cli_runner()
    listing = runner.invoke(khabuan, ["jobs", "list"])
    assert listing.exit_code == 0, listing.output
    assert "housekeeping" in listing.output and "hour=3 minute=30" in listing.output
    tomorrow_or_today = {(now.astimezone(services.settings.timezone) + timedelta(days=d)).strftime("%Y-%m-%d 03:30")
                         for d in (0, 1)}
    assert any(t in listing.output for t in tomorrow_or_today)  # next run shown in Bangkok time
    assert "last never" in listing.output

    ran = runner.invoke(khabuan, ["jobs", "run", "housekeeping"])
    assert ran.exit_code == 0, ran.output
    assert "housekeeping done: 2" in ran.output
    with services.session_factory() as session:
        assert session.scalars(select(ProcessedEvent.webhook_event_id)).all() == ["recent"]
        assert session.scalars(select(OutboxMessage.kind)).all() == ["pending"]
    assert "done" in runner.invoke(khabuan, ["jobs", "list"]).output
    assert runner.invoke(khabuan, ["jobs", "run", "nonsense"]).exit_code != 0


def test_registry_refuses_duplicates_and_bad_schedules():
    registry = JobRegistry()
    registry.add(JobSpec("a", tick, {"hour": 3}, "x"))
    with pytest.raises(ValueError):
        registry.add(JobSpec("a", tick, {"hour": 4}, "x"))
    with pytest.raises(ValueError):
        registry.add(JobSpec("b", tick, {"hour": 25}, "x"))
    names = [s.name for s in build_registry()]
    assert "housekeeping" in names and len(names) == len(set(names))


# ---- the schedule in the database ---------------------------------------------------------------


def test_missed_run_is_caught_up_once_when_a_worker_comes_back(services):
    registry, calls = counting_registry({"minute": 0})  # hourly
    tz = services.settings.timezone
    # The last worker stored the schedule, then went down for three hours: three runs missed.
    gone = build_scheduler(services, registry, "gone")
    gone.start(paused=True)
    sync_jobs(gone, registry, tz)
    missed = (utcnow() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    gone.modify_job("count", next_run_time=missed)
    gone.shutdown()

    back = build_scheduler(services, registry, "back")
    back.start(paused=True)
    sync_jobs(back, registry, tz)  # same schedule: the stored (missed) next run is kept
    back.resume()
    try:
        wait_for(lambda: runs(services), what="the catch-up run")
        time.sleep(1.0)  # room for any (wrong) second run to show up
    finally:
        back.shutdown(wait=True)
    [run] = runs(services)
    assert len(calls) == 1 and run.runner == "back" and run.status == "done"
    assert run.fire_time == missed + timedelta(hours=3)  # coalesced into the latest missed time


def test_sync_follows_the_code(services):
    tz = services.settings.timezone
    registry, _ = counting_registry({"hour": 3})
    scheduler = build_scheduler(services, registry, "me")
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, registry, tz)
        assert str(scheduler.get_job("count").trigger) == "cron[hour='3']"
        changed, _ = counting_registry({"hour": 4})
        sync_jobs(scheduler, changed, tz)
        assert str(scheduler.get_job("count").trigger) == "cron[hour='4']"
        sync_jobs(scheduler, JobRegistry(), tz)
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown()


# ---- leader election ------------------------------------------------------------------------------


def test_lease_is_held_by_one_until_it_expires_or_is_released(services):
    a = LeaderLease(services, "a", timedelta(seconds=30))
    b = LeaderLease(services, "b", timedelta(seconds=30))
    now = utcnow()
    assert a.try_acquire(now) and not b.try_acquire(now)
    assert a.try_acquire(now + timedelta(seconds=20))  # renewed
    assert not b.try_acquire(now + timedelta(seconds=40))  # renewal counted from second 20
    assert b.try_acquire(now + timedelta(seconds=51))  # a stopped renewing: b takes over
    assert not a.try_acquire(now + timedelta(seconds=52))
    b.release()
    assert a.try_acquire()  # released: no need to wait for expiry


def test_leadership_moves_when_the_leader_loses_the_lease_or_stops(services, settings):
    other = build_services(settings)  # a second process's engine and gateway
    options = WorkerOptions(lease_ttl=timedelta(seconds=30))
    a = Worker(services, build_registry(), options, identity="a")
    b = Worker(other, build_registry(), options, identity="b")
    try:
        assert a.check_leadership() and a.scheduler is not None and a.scheduler.running
        assert not b.check_leadership() and b.scheduler is None
        # a stalled past its lease and b took it over: a must stop scheduling at its next check.
        with transaction(services.session_factory) as session:
            session.execute(update(SchedulerLease).values(holder="b", expires_at=utcnow() + timedelta(seconds=30)))
        assert not a.check_leadership() and a.scheduler is None
        assert b.check_leadership() and b.scheduler is not None
        b.shutdown()  # graceful: stops the scheduler and releases the lease
        assert b.scheduler is None
        assert a.check_leadership()
    finally:
        a.shutdown()
        b.shutdown()
        other.gateway.close()
        other.engine.dispose()


def test_worker_stops_on_request_and_hands_over(services, settings):
    worker = Worker(services, build_registry(), WorkerOptions(poll=0.05, lease_ttl=timedelta(seconds=30),
                                                              renew=timedelta(seconds=0.2)), identity="solo")
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: worker.is_leader, what="leadership")
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert not thread.is_alive() and worker.scheduler is None
    with services.session_factory() as session:
        lease = session.get(SchedulerLease, "scheduler")
    assert lease.holder == "solo" and lease.expires_at < utcnow()  # released, not left to expire


def _start_worker(settings, log: Path) -> subprocess.Popen:
    env = {**os.environ,
           "DATABASE_URL": settings.database_url,
           "LINE_CHANNEL_SECRET": settings.channel_secret,
           "LINE_CHANNEL_ACCESS_TOKEN": settings.channel_access_token,
           "LINE_API_BASE_URL": settings.line_api_base_url,
           "KHABUAN_INSTANCE_PATH": str(settings.instance_path),
           "BOT_QUIET_HOURS": "00:00-00:00",
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [str(KHABUAN), "worker", "--lease-seconds", "3", "--poll", "0.2", "--job-module", "tests.test_worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _pid(run: JobRun) -> int:
    return int(run.runner.split(":")[1])


@pytest.mark.real_clock
def test_two_workers_one_scheduler_and_failover_on_sigterm(services, settings, tmp_path):
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    first = _start_worker(settings, logs[0])
    second = None
    try:
        # Generous: a cold worker process imports the whole bot first (slow on a loaded machine).
        wait_for(lambda: len(runs(services, "tick")) >= 2, timeout=45, what="the first worker's ticks")
        second = _start_worker(settings, logs[1])
        # Let the second worker come up and contend for a few lease rounds.
        wait_for(lambda: "worker" in logs[1].read_text() and "started" in logs[1].read_text(),
                 timeout=45, what="the second worker")
        time.sleep(3)
        ticks = runs(services, "tick")
        assert {_pid(r) for r in ticks} == {first.pid}  # only the leader fires
        assert "scheduler leader" not in logs[1].read_text()

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0  # graceful: finished its work and exited cleanly
        handed_over = len(ticks)
        wait_for(lambda: any(_pid(r) == second.pid for r in runs(services, "tick")), what="failover")
        after = runs(services, "tick")
        assert len(after) > handed_over
        # One run per second of schedule, whoever fired it; the second took over after the first.
        assert len({r.fire_time for r in after}) == len(after)
        last_of_first = max(r.fire_time for r in after if _pid(r) == first.pid)
        assert all(r.fire_time > last_of_first for r in after if _pid(r) == second.pid)
        assert "scheduler leader" in logs[1].read_text()
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
        assert "stopped" in logs[0].read_text() and "stopped" in logs[1].read_text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
