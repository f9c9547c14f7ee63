"""Scheduled jobs: the registry behind `khabuan jobs`, and how the worker's scheduler runs them.

A feature adds jobs explicitly: a module with `register_jobs(registry)` listed in
bot/schedule.py's JOB_MODULES (no import side effects); this module is the machinery only. Each job is `func(services, fire_time) -> int | None` and runs through
`run_job`, which first records (job name, fire time) in `job_runs` under a unique constraint: a
double fire (two schedulers during a lease hand-over, a misfire catch-up, a manual run racing
the schedule) runs the job once. Jobs should still queue pushes with a dedupe_key, so even a
manual re-run (`khabuan jobs run`, a new fire time) does not message anyone twice.

APScheduler keeps its schedule in the database (SQLAlchemyJobStore, table apscheduler_jobs) so
a run missed while no worker was up is caught up once (coalesce) when one comes back, within
MISFIRE_GRACE.
"""
from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.executors.base import run_job as apscheduler_run_job
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .db import transaction
from .models import happening_at, utcnow
from .models.delivery import JobRun

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)
JOBSTORE_TABLE = "apscheduler_jobs"
# A job missed by up to 6 hours (a deploy, a crash, a night with the worker down) still runs once.
MISFIRE_GRACE = timedelta(hours=6)
# A run still marked running after this long lost its worker (killed, machine gone): take it over.
STALE_RUN = timedelta(hours=1)

JobFunc = Callable[["Services", datetime], "int | None"]


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunc
    trigger: dict[str, Any]  # CronTrigger keyword arguments, read in settings.timezone
    description: str

    def cron(self, tz: ZoneInfo) -> CronTrigger:
        return CronTrigger(timezone=tz, **self.trigger)


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, JobSpec] = {}

    def add(self, spec: JobSpec) -> None:
        if spec.name in self._jobs:
            raise ValueError(f"job {spec.name!r} registered twice")
        CronTrigger(**spec.trigger)  # a typo in the schedule fails at start-up, not at 03:00
        self._jobs[spec.name] = spec

    def get(self, name: str) -> JobSpec | None:
        return self._jobs.get(name)

    def __iter__(self) -> Iterator[JobSpec]:
        return iter(sorted(self._jobs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._jobs)


@dataclass(frozen=True)
class RunOutcome:
    ran: bool  # False: this (job, fire time) had already run, or is running elsewhere
    status: str
    result: int | None = None
    error: str | None = None


def normalize_fire_time(fire_time: datetime) -> datetime:
    # Whole seconds in UTC: the same scheduled moment compares equal whoever computed it.
    return fire_time.astimezone(timezone.utc).replace(microsecond=0)


def run_job(services: Services, spec: JobSpec, fire_time: datetime, runner: str) -> RunOutcome:
    """Run a job for one fire time at most once, across every worker and every retry."""
    fire_time = normalize_fire_time(fire_time)
    try:
        with transaction(services.session_factory) as session:
            run = JobRun(job_name=spec.name, fire_time=fire_time, runner=runner)
            session.add(run)
            session.flush()
            run_id = run.id
    except IntegrityError:
        taken_over = _take_over_stale_run(services, spec.name, fire_time, runner)
        if taken_over is None:
            log.info("job %s for %s already ran; skipped", spec.name, fire_time.isoformat())
            return RunOutcome(False, "skipped")
        log.warning("job %s for %s: its runner died mid-run; running it again", spec.name, fire_time.isoformat())
        run_id = taken_over
    log.info("job %s for %s started", spec.name, fire_time.isoformat())
    status, result, error = "done", None, None
    try:
        with happening_at(fire_time):  # what the job writes is stamped at its fire time
            result = spec.func(services, fire_time)
    except Exception as exc:  # noqa: BLE001 - recorded for operators; the scheduler keeps going
        log.exception("job %s for %s failed", spec.name, fire_time.isoformat())
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
    with transaction(services.session_factory) as session:
        session.execute(update(JobRun).where(JobRun.id == run_id).values(
            status=status, result=result, error=error, finished_at=utcnow()))
    return RunOutcome(True, status, result, error)


def _take_over_stale_run(services: Services, name: str, fire_time: datetime, runner: str) -> int | None:
    """Claim a run still "running" long after it started: its worker was killed mid-job.

    Jobs queue their pushes with dedupe keys, so running one again finishes its work without
    messaging anyone twice. One atomic UPDATE, so only one worker takes it over.
    """
    now = utcnow()
    with transaction(services.session_factory) as session:
        # Write first (SQLite: a read-then-write transaction can fail at once under concurrency).
        taken = session.execute(
            update(JobRun)
            .where(JobRun.job_name == name, JobRun.fire_time == fire_time, JobRun.status == "running",
                   JobRun.started_at < now - STALE_RUN)
            .values(runner=runner, started_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not taken:
            return None
        return session.scalar(select(JobRun.id).where(JobRun.job_name == name, JobRun.fire_time == fire_time))


def last_runs(services: Services) -> dict[str, JobRun]:
    """The latest run of each job, for `khabuan jobs list`."""
    latest: dict[str, JobRun] = {}
    with services.session_factory() as session:
        for run in session.scalars(select(JobRun).order_by(JobRun.fire_time)):
            latest[run.job_name] = run
    return latest


# ---- the scheduler (run by the elected worker only, see bot/worker.py) ----------------


def scheduled_job(name: str) -> None:
    """What the job store records as every job's function (it must be importable by name).

    The worker's RegistryExecutor runs the registered JobSpec instead, because a JobSpec needs
    this process's Services and the scheduled fire time, neither of which APScheduler passes.
    """
    raise RuntimeError(f"job {name!r} must run through the worker's RegistryExecutor")


class _Firing:
    """A Job as apscheduler's run_job sees it, whose func receives the fire time."""

    def __init__(self, job: Job, func: Callable[[], object]) -> None:
        self.id = job.id
        self.misfire_grace_time = job.misfire_grace_time
        self.func = func
        self.args: tuple[()] = ()
        self.kwargs: dict[str, Any] = {}

    def __str__(self) -> str:
        return self.id


class RegistryExecutor(BasePoolExecutor):
    """A thread pool that calls fire(job id, scheduled fire time) for each due run.

    Reuses apscheduler's own run_job for misfire handling and events, one run time at a time,
    so the fire time (not "now") reaches job_runs.
    """

    def __init__(self, fire: Callable[[str, datetime], object], max_workers: int = 4) -> None:
        super().__init__(concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix="job"))
        self._fire = fire

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def run_all() -> list[Any]:
            events: list[Any] = []
            for run_time in run_times:
                firing = _Firing(job, lambda t=run_time: self._fire(job.id, t))
                events += apscheduler_run_job(firing, job._jobstore_alias, [run_time], self._logger.name)
            return events

        def done(future: concurrent.futures.Future[list[Any]]) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(run_all).add_done_callback(done)


class LeaderScheduler(BackgroundScheduler):
    """A BackgroundScheduler that never processes jobs unless running.

    APScheduler 3 only skips processing when *paused*: after shutdown() its loop can make one
    last pass, which advances a due job's next run time while the executor refuses it, so the
    run is lost. A leader stepping down at a job's fire time must leave that run to its successor.
    """

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


def build_scheduler(services: Services, registry: JobRegistry, runner: str) -> BackgroundScheduler:
    def fire(name: str, fire_time: datetime) -> RunOutcome | None:
        spec = registry.get(name)
        if spec is None:  # removed from the code since it was stored; sync_jobs drops it
            log.warning("scheduled job %s is no longer registered", name)
            return None
        return run_job(services, spec, fire_time, runner)

    return LeaderScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=services.engine, tablename=JOBSTORE_TABLE)},
        executors={"default": RegistryExecutor(fire)},
        job_defaults={"coalesce": True, "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
                      "max_instances": 1},
        timezone=services.settings.timezone,
    )


def sync_jobs(scheduler: BackgroundScheduler, registry: JobRegistry, tz: ZoneInfo) -> None:
    """Make the stored schedule match the registry, on a started (paused) scheduler.

    A job whose schedule did not change is left alone: replacing it would recompute its next
    run from now and lose the catch-up of a run missed while no worker was up.
    """
    wanted = {spec.name: spec.cron(tz) for spec in registry}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            log.info("job %s removed from the schedule", job.id)
            scheduler.remove_job(job.id)
    for name, trigger in wanted.items():
        job = scheduler.get_job(name)
        if job is None:
            scheduler.add_job(scheduled_job, trigger, id=name, name=name, kwargs={"name": name})
        elif repr(job.trigger) != repr(trigger):
            log.info("job %s rescheduled: %s", name, trigger)
            scheduler.reschedule_job(name, trigger=trigger)


def next_fire_time(spec: JobSpec, tz: ZoneInfo, now: datetime) -> datetime | None:
    now = now.astimezone(tz)
    return spec.cron(tz).get_next_fire_time(None, now)
