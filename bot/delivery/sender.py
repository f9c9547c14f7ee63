"""Sending outbox rows: lease, send with the row's retry key, record the outcome."""
from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from linebot.v3.messaging import Message
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..line import LineGateway, SendResult
from ..models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8


def backoff(attempt: int, retry_after: float | None = None) -> timedelta:
    """Exponential backoff with full jitter, capped at 30 minutes; LINE's Retry-After wins."""
    if retry_after:
        return timedelta(seconds=retry_after)
    return timedelta(seconds=random.uniform(0, min(1800, 2 ** attempt * 5)))


class Sender:
    def __init__(self, factory: sessionmaker[Session], gateway: LineGateway) -> None:
        self.factory = factory
        self.gateway = gateway

    def claim(self, *, limit: int = 50, ids: Sequence[int] | None = None, now: datetime | None = None,
              extra_filter=None) -> list[OutboxMessage]:
        """Lease due rows with one atomic UPDATE, so no two workers ever hold the same row."""
        now = now or utcnow()
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
            if extra_filter is not None:
                due = due.where(extra_filter)
            if session.bind.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()),
                       or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                .values(claimed_until=now + LEASE, claim_token=token)
                .execution_options(synchronize_session=False)
            )
            return list(session.scalars(
                select(OutboxMessage).where(OutboxMessage.claim_token == token).order_by(
                    OutboxMessage.priority, OutboxMessage.id)))

    def send(self, row: OutboxMessage) -> SendResult:
        messages = [Message.from_dict(m) for m in row.messages]
        if len(row.recipients) == 1:  # a group, a room, or one person
            return self.gateway.push(row.recipients[0], messages, row.retry_key)
        return self.gateway.multicast(list(row.recipients), messages, row.retry_key)

    def record(self, row_id: int, token: str | None, result: SendResult, *, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self.factory() as session, session.begin():
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None or row.claim_token != token:  # lease lost to another worker
                return
            row.attempts += 1
            row.claimed_until = None
            if result.ok:
                row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
            elif result.status == 400 or row.attempts >= MAX_ATTEMPTS:
                # 400 is our bug: retrying cannot help. Operators see it in `khabuan outbox`.
                row.status, row.last_error = OutboxStatus.FAILED, f"{result.status}: {result.error}"
                log.error("outbox %s failed for good (%s): %s", row.id, row.kind, result.error)
            else:
                row.last_error = f"{result.status}: {result.error}"
                row.next_attempt_at = now + backoff(row.attempts, result.retry_after)

    def deliver(self, *, ids: Sequence[int] | None = None, limit: int = 50) -> int:
        """Send what is due (or the given rows); returns how many were delivered."""
        delivered = 0
        for row in self.claim(limit=limit, ids=ids):
            result = self.send(row)
            self.record(row.id, row.claim_token, result)
            delivered += result.ok
        return delivered
