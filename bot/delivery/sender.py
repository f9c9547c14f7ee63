"""Sending outbox rows: lease, check quiet hours and quota, send with the row's retry key, record.

Exactly once, by construction:
- a row is leased with one atomic UPDATE, so two senders never hold it at the same time;
- the lease is short (LEASE): a live sender renews it while it works through its batch (checked
  before each send, renewed once RENEW_EVERY has passed), so a dead sender's rows go to another
  within LEASE of its last renewal, while a live but slow one never loses rows it is still sending;
- it is sent with the retry key created with the row, so if a sender dies after LINE accepted
  it but before recording, the next sender's attempt gets 409 "already accepted", which we
  count as delivered (LINE keeps retry keys for 24 hours);
- the outcome is recorded only by the lease holder (a sender whose lease expired records nothing).
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from linebot.v3.messaging import Message
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .. import metrics
from ..config import Settings
from ..line import LineGateway, SendResult
from ..models import OutboxMessage, OutboxStatus, Priority, utcnow
from .quiet import in_quiet_hours
from .quota import QuotaTracker, month_key, notify_secretariat, queued_cost, reserved_for_important
from .ratelimit import EndpointLimiter

log = logging.getLogger(__name__)
# A crashed sender's rows wait at most this long after its last renewal. A renewal comes before
# every send once RENEW_EVERY has passed, so a send starts with more than LEASE − RENEW_EVERY
# left, more than one request can take (line.TIMEOUT and one reconnect: 2 × 3.05 s + 10 s).
LEASE = timedelta(seconds=20)
RENEW_EVERY = timedelta(seconds=5)
MAX_ATTEMPTS = 8
QUOTA_WAIT = timedelta(minutes=10)  # how often a row held for quota looks again
DEFAULT_RATE = 100.0  # requests per second per endpoint, per process (LINE allows 2,000)
WAITING_FOR_QUOTA = "waiting for quota"
UNSENDABLE = -1  # SendResult status for a row that could not be turned into a request


STRUCTURAL_KEYS = {"type", "layout", "size", "style", "mode", "weight", "align", "flex", "margin", "spacing"}


def message_shape(node: Any) -> Any:
    """A message with every free string replaced by its length: enough to debug a 400
    (which property, how long), nothing personal."""
    if isinstance(node, dict):
        return {k: (v if k in STRUCTURAL_KEYS else message_shape(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [message_shape(v) for v in node]
    if isinstance(node, str):
        return f"<{len(node)} chars>"
    return node


def backoff(attempt: int, retry_after: float | None = None) -> timedelta:
    """Exponential backoff with full jitter, capped at 30 minutes; LINE's Retry-After wins."""
    if retry_after:
        return timedelta(seconds=retry_after)
    return timedelta(seconds=random.uniform(0, min(1800, 2 ** attempt * 5)))


def retryable(result: SendResult) -> bool:
    """Worth trying again later: LINE busy or down, rate limited, a timeout or network error.

    401 too: a rotated or mistyped channel token is fixed by an operator, and failing every
    queued push for good meanwhile would be worse. Other 4xx are our request's fault.
    """
    return result.status in (0, 401, 408, 429) or result.status >= 500


def monthly_limit_reached(result: SendResult) -> bool:
    return result.status == 429 and "monthly limit" in (result.error or "").lower()


@dataclass
class DeliveryStats:
    claimed: int = 0
    delivered: int = 0  # accepted by LINE now, or earlier (409 on the retry key)
    retrying: int = 0
    failed: int = 0
    held: int = 0  # waiting for quota
    lost: int = 0  # lease lapsed (e.g. the process was paused) and another sender took the row
    requests: int = 0


class Sender:
    def __init__(self, factory: sessionmaker[Session], gateway: LineGateway, settings: Settings, *,
                 rate_per_second: float = DEFAULT_RATE, max_attempts: int = MAX_ATTEMPTS,
                 lease: timedelta = LEASE, renew_every: timedelta = RENEW_EVERY,
                 quota: QuotaTracker | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.factory = factory
        self.gateway = gateway
        self.settings = settings
        self.max_attempts = max_attempts
        self.lease = lease
        self.renew_every = renew_every
        self.clock = clock  # the time when a caller gives none: injected, so tests can move it
        self.limiter = EndpointLimiter(rate_per_second)
        self.quota = quota or QuotaTracker(gateway)
        self.monotonic = time.monotonic  # real elapsed time within a batch (replaceable in tests)
        self._notified_months: set[str] = set()

    # ---- leasing -------------------------------------------------------------------------

    def claim(self, *, limit: int = 50, ids: Sequence[int] | None = None, now: datetime | None = None,
              urgent_only: bool = False, extra_filter: ColumnElement[bool] | None = None) -> list[OutboxMessage]:
        """Lease due rows with one atomic UPDATE, so no two workers ever hold the same row."""
        now = now or self.clock()
        token = str(uuid.uuid4())
        with self.factory() as session, session.begin():
            due = (select(OutboxMessage.id)
                   .where(OutboxMessage.status == OutboxStatus.PENDING,
                          OutboxMessage.next_attempt_at <= now,
                          or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                   .order_by(OutboxMessage.priority, OutboxMessage.id)
                   .limit(limit))
            if ids is not None:
                due = due.where(OutboxMessage.id.in_(list(ids)))
            if urgent_only:  # quiet hours: filtering here (not rescheduling) stays right if they change
                due = due.where(OutboxMessage.urgent.is_(True))
            if extra_filter is not None:
                due = due.where(extra_filter)
            if session.bind.dialect.name == "postgresql":
                # Lock the batch first, then lease exactly those ids. Inside UPDATE ... WHERE id IN
                # (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED), PostgreSQL may plan a nested-loop
                # semi-join that re-runs the LIMIT subquery per row, leasing the whole backlog.
                chosen: Sequence[int] = session.scalars(due.with_for_update(skip_locked=True)).all()
            else:
                # SQLite: one UPDATE statement is atomic (a database-wide write lock) and it
                # evaluates an uncorrelated IN (subquery) once.
                chosen = due.scalar_subquery()  # type: ignore[assignment]
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(chosen),
                       OutboxMessage.status == OutboxStatus.PENDING,
                       or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                .values(claimed_until=now + self.lease, claim_token=token)
                .execution_options(synchronize_session=False)
            )
            return list(session.scalars(
                select(OutboxMessage).where(OutboxMessage.claim_token == token).order_by(
                    OutboxMessage.priority, OutboxMessage.id)))

    def renew(self, token: str, now: datetime) -> set[int]:
        """Extend the lease on the rows this claim still holds; returns their ids.

        The claim token is the proof: a row another sender claimed after our lease lapsed carries
        its token now and is left alone (and dropped from our batch). Rows already recorded or
        released (claimed_until NULL) are not leased again.
        """
        with self.factory() as session, session.begin():
            session.execute(update(OutboxMessage)
                            .where(OutboxMessage.claim_token == token, OutboxMessage.status == OutboxStatus.PENDING,
                                   OutboxMessage.claimed_until.is_not(None))
                            .values(claimed_until=now + self.lease).execution_options(synchronize_session=False))
            return set(session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.claim_token == token, OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.claimed_until.is_not(None))))

    def release(self, row_ids: Sequence[int], token: str, *, until: datetime | None = None,
                reason: str | None = None) -> None:
        """Give leased rows back without counting an attempt (shutdown, or waiting for quota)."""
        if not row_ids:
            return
        values: dict[str, object] = {"claimed_until": None}
        if until is not None:
            values["next_attempt_at"] = until
        if reason is not None:
            values["last_error"] = reason
        with self.factory() as session, session.begin():
            session.execute(update(OutboxMessage)
                            .where(OutboxMessage.id.in_(list(row_ids)), OutboxMessage.claim_token == token,
                                   OutboxMessage.status == OutboxStatus.PENDING)
                            .values(**values).execution_options(synchronize_session=False))

    # ---- sending -------------------------------------------------------------------------

    def send(self, row: OutboxMessage) -> SendResult:
        try:
            messages = [Message.from_dict(m) for m in row.messages]
        except (ValueError, TypeError, KeyError) as exc:
            # A row the SDK can't even rebuild (hand-edited, or written by an older version) must
            # fail on its own, not crash the worker loop on every pass.
            return SendResult(False, UNSENDABLE, f"unsendable: {exc}"[:500])
        if len(row.recipients) == 1:  # a group, a room, or one person
            self.limiter.acquire("push")
            return self.gateway.push(row.recipients[0], messages, row.retry_key)
        self.limiter.acquire("multicast")
        return self.gateway.multicast(list(row.recipients), messages, row.retry_key)

    def record(self, row_id: int, token: str | None, result: SendResult, *, now: datetime | None = None) -> str | None:
        """Record a send's outcome on the row we hold; returns the metric's result (None: lease lost)."""
        now = now or self.clock()
        outcome = self._record(row_id, token, result, now)
        if outcome is not None:
            metrics.DELIVERIES.labels(outcome).inc()
        return outcome

    def _record(self, row_id: int, token: str | None, result: SendResult, now: datetime) -> str | None:
        with self.factory() as session, session.begin():
            # Write first, conditionally: it takes the row lock (PostgreSQL) or the write lock (SQLite,
            # where a read-then-write transaction could fail or act on a stale read under concurrency).
            still_ours = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.claim_token == token,
                       OutboxMessage.status == OutboxStatus.PENDING)
                .values(claimed_until=None).execution_options(synchronize_session=False)).rowcount
            if not still_ours:
                return None  # lease lost to another sender, which records the outcome instead
            row = session.get(OutboxMessage, row_id, populate_existing=True)
            assert row is not None
            if monthly_limit_reached(result):
                # Not the row's fault and not worth an attempt: look again when the quota may allow.
                row.next_attempt_at, row.last_error = now + QUOTA_WAIT, WAITING_FOR_QUOTA
                return "held"
            row.attempts += 1
            if result.ok:
                row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
                # LINE has it: the body (names, phones on a certification card…) is no longer
                # needed, so it is not kept for the month the row stays for support questions.
                row.messages = []
                return "duplicate" if result.duplicate else "sent"
            elif result.status == 400:
                # Our bug: retrying cannot help. Log LINE's details and the shape of the body we
                # sent; its words may hold names and phones, so strings appear as their lengths.
                row.status, row.last_error = OutboxStatus.FAILED, f"400: {result.error}"
                log.error("outbox %s (%s) refused by LINE: %s; messages: %s", row.id, row.kind,
                          result.error, json.dumps(message_shape(row.messages))[:4000])
                return "failed"
            elif not retryable(result) or row.attempts >= self.max_attempts:
                row.status, row.last_error = OutboxStatus.FAILED, f"{result.status}: {result.error}"
                log.error("outbox %s (%s) failed for good after %d attempt(s): %s %s",
                          row.id, row.kind, row.attempts, result.status, result.error)
                return "failed"
            else:
                row.last_error = f"{result.status}: {result.error}"
                row.next_attempt_at = now + backoff(row.attempts, result.retry_after)
                return "retried"

    def deliver(self, *, ids: Sequence[int] | None = None, limit: int = 50, now: datetime | None = None,
                should_stop: Callable[[], bool] | None = None) -> DeliveryStats:
        """Send one batch of what is due (or of the given rows) and record each outcome.

        Non-urgent rows stay queued during quiet hours. When the month's quota cannot cover a
        row it waits: low-priority rows also leave room for every pending high/normal row.
        """
        stats = DeliveryStats()
        moment = now or self.clock()
        s = self.settings
        quiet = in_quiet_hours(moment, s.quiet_start, s.quiet_end, s.timezone)
        rows = self.claim(limit=limit, ids=ids, now=moment, urgent_only=quiet)
        stats.claimed = len(rows)
        if not rows:
            return stats
        token = rows[0].claim_token or ""
        budget = self.quota.remaining()
        reserve: int | None = None  # asked only when a low-priority row needs it
        short = False
        renewed_at, ours = moment, {r.id for r in rows}
        started = self.monotonic()
        for index, row in enumerate(rows):
            if should_stop is not None and should_stop():
                self.release([r.id for r in rows[index:]], token)
                break
            current = self.clock() if now is None else now  # due times and stamps: the caller's clock
            # The lease runs on real time even when the caller fixed `now` (the webhook's
            # after-response delivery does): a long batch must still renew it.
            on_lease = current if now is None else moment + timedelta(seconds=self.monotonic() - started)
            if on_lease - renewed_at >= self.renew_every:  # a long batch: keep the lease alive
                ours, renewed_at = self.renew(token, on_lease), on_lease
            if row.id not in ours:  # our lease lapsed and another sender has the row now
                stats.lost += 1
                continue
            if budget is not None:
                needed = row.cost
                if row.priority >= Priority.LOW:
                    if reserve is None:
                        with self.factory() as session:
                            reserve = reserved_for_important(session)
                    needed += reserve
                if needed > budget:
                    short = True
                    stats.held += 1
                    self.release([row.id], token, until=current + QUOTA_WAIT, reason=WAITING_FOR_QUOTA)
                    metrics.DELIVERIES.labels("held").inc()
                    continue
            result = self.send(row)
            stats.requests += 1
            if result.ok and not result.duplicate:
                self.quota.spend(row.cost)
                if budget is not None:
                    budget -= row.cost
            if monthly_limit_reached(result):
                self.quota.invalidate()
                short = True
            self.record(row.id, token, result, now=now)
            if result.ok:
                stats.delivered += 1
            elif monthly_limit_reached(result):
                stats.held += 1
            elif result.status == 400 or not retryable(result):
                stats.failed += 1
            else:
                stats.retrying += 1
        if short:
            self._tell_secretariat(moment, budget or 0)
        return stats

    def _tell_secretariat(self, now: datetime, remaining: int) -> None:
        """Queue the month's quota notice once, and try to send it right away (it is urgent)."""
        month = month_key(now, self.settings)
        if month in self._notified_months:
            return
        try:
            with self.factory() as session, session.begin():
                queued = queued_cost(session)
                ids = notify_secretariat(session, self.settings, now, remaining=remaining, queued=queued)
        except IntegrityError:  # another process queued this month's notice at the same moment
            ids = []
        self._notified_months.add(month)
        if ids:
            log.warning("monthly quota short (%d left, %d queued): secretariat told", remaining, queued)
            self.deliver(ids=ids, now=now)
