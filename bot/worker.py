"""`khabuan worker`: the outbox sender loop, and the scheduler on exactly one worker.

Every worker sends (the outbox lease makes that safe). Only the holder of the database lease
`scheduler_leases['scheduler']` runs APScheduler; it renews the lease every `renew` seconds in
its own thread (a sender batch stuck on LINE timeouts must not let the lease lapse), and stops
its scheduler as soon as it cannot prove it still holds the lease. Leases compare application
clocks, so the workers' hosts need NTP; job_runs' unique constraint covers the seconds of a
hand-over or any skew left.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .db import transaction
from .models import utcnow
from .models.delivery import SchedulerLease
from .delivery.sender import DeliveryStats

if TYPE_CHECKING:
    from .services import Services
    from .jobs import JobRegistry

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


class LeaderLease:
    """A named lease in the database, taken or renewed with one atomic UPDATE."""

    def __init__(self, services: Services, holder: str, ttl: timedelta, name: str = LEASE_NAME) -> None:
        self.factory = services.session_factory
        self.holder = holder
        self.ttl = ttl
        self.name = name

    def try_acquire(self, now: datetime | None = None) -> bool:
        """Take the lease if it is free or expired, or extend it if we hold it; True if we hold it."""
        now = now or utcnow()
        with transaction(self.factory) as session:
            taken = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name,
                       or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now))
                .values(expires_at=now + self.ttl,
                        acquired_at=case((SchedulerLease.holder == self.holder, SchedulerLease.acquired_at),
                                         else_=now),
                        holder=self.holder)
                .execution_options(synchronize_session=False)).rowcount
        if taken:
            return True
        try:  # the very first worker ever: no row to update yet
            with transaction(self.factory) as session:
                session.add(SchedulerLease(name=self.name, holder=self.holder, expires_at=now + self.ttl,
                                           acquired_at=now))
            return True
        except IntegrityError:  # the row exists: someone else holds an unexpired lease
            return False

    def release(self) -> None:
        """Expire our lease now, so another worker takes over at its next check, not after the ttl."""
        now = utcnow()
        with transaction(self.factory) as session:
            session.execute(update(SchedulerLease)
                            .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                            .values(expires_at=now - timedelta(seconds=1))
                            .execution_options(synchronize_session=False))


@dataclass
class WorkerOptions:
    batch: int = 50
    poll: float = 1.0  # seconds to sleep when nothing is due
    lease_ttl: timedelta = timedelta(seconds=30)
    renew: timedelta = timedelta(seconds=10)  # well under the ttl: two renewals may fail in a row
    scheduler: bool = True  # False: send only (e.g. extra workers during a big campaign)


class Worker:
    def __init__(self, services: Services, registry: JobRegistry, options: WorkerOptions | None = None,
                 identity: str | None = None) -> None:
        self.services = services
        self.registry = registry
        self.options = options or WorkerOptions()
        self.identity = identity or worker_identity()
        self.lease = LeaderLease(services, self.identity, self.options.lease_ttl)
        self.stopping = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self._confirmed_at = float("-inf")  # monotonic time of the last successful renewal
        self._elector: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    # ---- lifecycle -----------------------------------------------------------------------

    def run(self) -> None:
        """Send until SIGTERM/SIGINT (or stop()), then hand over the lease and exit cleanly."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        log.info("worker %s started", self.identity)
        self.start_election()
        try:
            self.send_loop()
        finally:
            self.shutdown()

    def stop(self) -> None:
        self.stopping.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("worker %s: %s, finishing the current push and stopping", self.identity,
                 signal.Signals(signum).name)
        self.stop()

    def start_election(self) -> None:
        if self.options.scheduler and self._elector is None:
            self._elector = threading.Thread(target=self._elect_loop, name="scheduler-lease", daemon=True)
            self._elector.start()

    def shutdown(self) -> None:
        self.stopping.set()
        if self._elector is not None:
            self._elector.join(timeout=self.options.renew.total_seconds() + 5)
            self._elector = None
        if self.scheduler is not None:
            self._stop_scheduler(wait=True)  # let a running job finish and record its run
            try:
                self.lease.release()
            except SQLAlchemyError:
                log.warning("could not release the scheduler lease; it expires by itself")
        log.info("worker %s stopped", self.identity)

    # ---- sending -------------------------------------------------------------------------

    def send_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                stats = self.services.sender.deliver(limit=self.options.batch, should_stop=self.stopping.is_set)
            except Exception:  # database restarting, LINE unreachable…: wait and retry, keep the scheduler alive
                log.exception("outbox pass failed; retrying")
                self.stopping.wait(max(self.options.poll, 5.0))
                continue
            if stats.claimed:
                self._log_pass(stats)
            if stats.claimed < self.options.batch:  # drained what is due: rest until more is
                self.stopping.wait(self.options.poll)

    @staticmethod
    def _log_pass(stats: DeliveryStats) -> None:
        log.info("outbox: %d delivered, %d retrying, %d failed, %d waiting for quota",
                 stats.delivered, stats.retrying, stats.failed, stats.held)

    # ---- scheduler leadership ------------------------------------------------------------

    def check_leadership(self) -> bool:
        """One election round: renew or take the lease, start or stop the scheduler to match."""
        try:
            leader = self.lease.try_acquire()
        except SQLAlchemyError:
            log.warning("scheduler lease check failed", exc_info=True)
            # We can't tell: keep the scheduler only while the last renewal still guarantees the lease.
            leader = self.is_leader and (
                time.monotonic() - self._confirmed_at < self.options.lease_ttl.total_seconds()
                - self.options.renew.total_seconds())
        else:
            if leader:
                self._confirmed_at = time.monotonic()
        if leader and not self.is_leader and not self.stopping.is_set():
            self._start_scheduler()
        elif not leader and self.is_leader:
            log.warning("worker %s lost the scheduler lease; scheduler stopped", self.identity)
            self._stop_scheduler(wait=False)
        return self.is_leader

    def _elect_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.check_leadership()
            except Exception:  # e.g. the job store unreachable while starting: try again next round
                log.exception("scheduler leadership round failed")
            self.stopping.wait(self.options.renew.total_seconds())

    def _start_scheduler(self) -> None:
        from .jobs import build_scheduler, sync_jobs

        scheduler = build_scheduler(self.services, self.registry, self.identity)
        # Paused first: the stored schedule is reconciled with the code before anything fires.
        scheduler.start(paused=True)
        try:
            sync_jobs(scheduler, self.registry, self.services.settings.timezone)
        except Exception:
            scheduler.shutdown(wait=False)
            raise
        scheduler.resume()
        self.scheduler = scheduler
        log.info("worker %s is the scheduler leader: scheduler started with %d job(s)",
                 self.identity, len(self.registry))

    def _stop_scheduler(self, *, wait: bool) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=wait)
