"""Prometheus metrics: what the processes count, and what the database says at scrape time.

Counted in process (prometheus_client counters and histograms):
- `khabuan_webhook_events_total{type, outcome}` and `khabuan_webhook_event_seconds{type}`;
- `khabuan_deliveries_total{result}`: sent, duplicate (LINE's 409 on a retry key: delivered
  before), retried, failed, held (waiting for the monthly quota);
- `khabuan_line_quota_{limit,used,remaining}`: what the sender last learned from LINE (asked at most once a
  minute for sending, never for a scrape), counted down by what this process sent since.

Read from the database when scraped (`DatabaseCollector`, a few aggregate queries over indexed
columns): outbox rows by status and priority, the oldest due row's age, the scheduler lease's
holder and expiry, and each job's last run. Labels are kinds, statuses, priorities, job names and
worker ids (host:pid:random): never a LINE user id, a name or a phone.

gunicorn runs several processes. As prometheus_client documents for that case, each process
writes its values to files in `PROMETHEUS_MULTIPROC_DIR` (gunicorn.conf.py sets it before any
worker starts), /metrics collects all of them with a `MultiProcessCollector` into a registry made
for the scrape, and gunicorn's `child_exit` hook marks a dead worker's files. Without that
variable (one process: `khabuan serve`, `khabuan worker`, tests) the default registry is used.
"""
from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .models import OutboxMessage, OutboxStatus, Priority, utcnow
from .models.delivery import JobRun, SchedulerLease

WEBHOOK_EVENTS = Counter("khabuan_webhook_events", "Webhook events handled, by event type and outcome",
                         ["type", "outcome"])
WEBHOOK_SECONDS = Histogram("khabuan_webhook_event_seconds", "Time to handle one webhook event (reply included)",
                            ["type"], buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
DELIVERIES = Counter("khabuan_deliveries", "Outbox sends by result: sent, duplicate (409), retried, failed, held",
                     ["result"])
# The most recent value any process set: every process asks LINE the same question.
QUOTA_LIMIT = Gauge("khabuan_line_quota_limit", "LINE's monthly message limit as last read (-1: unlimited)",
                    multiprocess_mode="mostrecent")
QUOTA_USED = Gauge("khabuan_line_quota_used", "Messages used this month: LINE's count as last read plus what "
                   "this process sent since", multiprocess_mode="mostrecent")
QUOTA_REMAINING = Gauge("khabuan_line_quota_remaining", "Messages left this month by the same reckoning "
                        "(-1: unlimited)", multiprocess_mode="mostrecent")

EVENT_OUTCOMES = ("handled", "duplicate", "failed", "ignored")
DELIVERY_RESULTS = ("sent", "duplicate", "retried", "failed", "held")
PRIORITY_NAMES = {int(p): p.name.lower() for p in Priority}


def priority_label(value: int) -> str:
    return PRIORITY_NAMES.get(value, str(value))


class DatabaseCollector(Collector):
    """Gauges read from the database at each scrape (outbox, scheduler lease, job runs)."""

    def __init__(self, factory: sessionmaker[Session], clock: Callable[[], datetime] = utcnow) -> None:
        self.factory = factory
        self.clock = clock

    def collect(self) -> Iterator[Any]:
        now = self.clock()
        depth = GaugeMetricFamily("khabuan_outbox_rows", "Outbox rows by status and priority "
                                  "(sent rows are kept 30 days)", labels=["status", "priority"])
        oldest = GaugeMetricFamily("khabuan_outbox_oldest_due_seconds",
                                   "Age of the oldest pending row that is due now (0: none)")
        leader = GaugeMetricFamily("khabuan_scheduler_leader", "1 for the worker holding an unexpired scheduler "
                                   "lease", labels=["holder"])
        lease_left = GaugeMetricFamily("khabuan_scheduler_lease_seconds_left",
                                       "Seconds until the scheduler lease expires (negative: nobody holds it)")
        last_run = GaugeMetricFamily("khabuan_job_last_run_timestamp_seconds",
                                     "Fire time of each job's latest run, by its status", labels=["job", "status"])
        last_ok = GaugeMetricFamily("khabuan_job_last_success_timestamp_seconds",
                                    "Fire time of each job's latest successful run", labels=["job"])
        with self.factory() as session:
            counts = {(status, priority_label(priority)): 0 for status in OutboxStatus for priority in Priority}
            for status, priority, count in session.execute(
                    select(OutboxMessage.status, OutboxMessage.priority, func.count())
                    .group_by(OutboxMessage.status, OutboxMessage.priority)):
                counts[(status, priority_label(priority))] = count
            for (status, priority), count in sorted(counts.items()):
                depth.add_metric([status.value, priority], count)
            due = session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now))
            oldest.add_metric([], max(0.0, (now - _aware(due)).total_seconds()) if due else 0.0)
            for lease in session.scalars(select(SchedulerLease)):
                if lease.name == "scheduler":
                    left = (lease.expires_at - now).total_seconds()
                    lease_left.add_metric([], left)
                    if left > 0:
                        leader.add_metric([lease.holder], 1)
            latest = (select(JobRun.job_name, func.max(JobRun.fire_time).label("fire_time"))
                      .group_by(JobRun.job_name).subquery())
            for name, fire_time, status in session.execute(
                    select(JobRun.job_name, JobRun.fire_time, JobRun.status)
                    .join(latest, (JobRun.job_name == latest.c.job_name) & (JobRun.fire_time == latest.c.fire_time))):
                last_run.add_metric([name, status], _aware(fire_time).timestamp())
            for name, fire_time in session.execute(
                    select(JobRun.job_name, func.max(JobRun.fire_time)).where(JobRun.status == "done")
                    .group_by(JobRun.job_name)):
                last_ok.add_metric([name], _aware(fire_time).timestamp())
        yield from (depth, oldest, leader, lease_left, last_run, last_ok)


def _aware(moment: datetime) -> datetime:
    """func.max over a UTCDateTime column comes back as the driver gives it (SQLite: naive UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def registry_for_scrape(factory: sessionmaker[Session]) -> CollectorRegistry:
    """All processes' counters (multi-process mode) or this process's, plus the database's gauges."""
    # The same test prometheus_client makes when it picks where values live (present, even empty).
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector(factory))
    return registry


class _Forward(Collector):
    """The process's default registry, inside a registry made for one scrape."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()


def exposition(factory: sessionmaker[Session]) -> tuple[bytes, str]:
    """The body and content type of one scrape."""
    return generate_latest(registry_for_scrape(factory)), CONTENT_TYPE_LATEST


def authorized(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; no token set: nobody."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].strip().encode(), token.encode())


def record_quota(limit: int | None, used: int) -> None:
    QUOTA_LIMIT.set(-1 if limit is None else limit)
    QUOTA_USED.set(used)
    QUOTA_REMAINING.set(-1 if limit is None else max(0, limit - used))


def wsgi_app(factory: sessionmaker[Session], token: str) -> Callable[..., Any]:
    """/metrics alone as a WSGI app, with the same token check (the worker has no Flask app)."""
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or not token:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if not authorized(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Bearer realm="metrics"')])
            return [b"unauthorized\n"]
        body, content_type = exposition(factory)
        start_response("200 OK", [("Content-Type", content_type), ("Cache-Control", "no-store")])
        return [body]
    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # a scrape every 15 s is not news


def serve_in_thread(port: int, factory: sessionmaker[Session], token: str, host: str = "0.0.0.0") -> WSGIServer:
    """Serve /metrics on `port` from a daemon thread (the worker's); `.shutdown()` stops it."""
    server = make_server(host, port, wsgi_app(factory, token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
