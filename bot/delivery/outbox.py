"""Writing pushes into the outbox, in the caller's transaction."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice

from linebot.v3.messaging import Message
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..models import OutboxMessage, Priority

MAX_MULTICAST = 500


def enqueue(
    session: Session,
    recipients: Sequence[str],
    messages: Sequence[Message],
    *,
    now: datetime,
    kind: str,
    priority: int = Priority.NORMAL,
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> list[OutboxMessage]:
    """Queue the same messages for recipients: one push each for groups, multicasts of ≤ 500 users.

    `now` is the caller's clock (the event's or the job's): the rows are due and stamped from it,
    never from the wall clock, so a job run for a given moment queues what that moment would.

    With a dedupe_key, a second call with the same key queues nothing: the same
    push is never sent twice, even if the job that queues it runs twice.
    """
    if not recipients or not messages:
        return []
    if not 1 <= len(messages) <= 5:
        raise ValueError("a push carries 1 to 5 messages")
    if dedupe_key is not None:
        exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == f"{dedupe_key}#1"))
        if exists is not None:
            return []
    payload = [m.to_dict() for m in messages]
    users = [r for r in dict.fromkeys(recipients) if r.startswith("U")]
    chats = [r for r in dict.fromkeys(recipients) if not r.startswith("U")]
    batches: list[list[str]] = [[c] for c in chats]
    if len(users) == 1:
        batches.append(users)
    else:
        batches += [users[i:i + MAX_MULTICAST] for i in range(0, len(users), MAX_MULTICAST)]
    rows = []
    for n, batch in enumerate(batches, start=1):
        # Batch numbers keep the unique key per row; "#1" exists whenever the push was queued.
        key = None if dedupe_key is None else f"{dedupe_key}#{n}"
        row = OutboxMessage(kind=kind, recipients=batch, messages=payload, priority=int(priority),
                            urgent=urgent, dedupe_key=key, cost=len(batch), next_attempt_at=now,
                            created_at=now)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def enqueue_users(
    session: Session,
    user_ids: Iterable[str],
    messages: Sequence[Message],
    *,
    now: datetime,
    kind: str,
    priority: int = Priority.NORMAL,
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> int:
    """Queue the same messages for a stream of LINE user ids (e.g. every leader), 500 per row.

    For audiences too big to hold as a list: the ids are read 500 at a time and each multicast
    row is inserted with Core, so memory stays flat in the audience size. The caller streams
    distinct user ids (a SELECT DISTINCT / unique column); returns the number of rows queued.
    """
    if not 1 <= len(messages) <= 5:
        raise ValueError("a push carries 1 to 5 messages")
    if dedupe_key is not None and session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == f"{dedupe_key}#1")) is not None:
        return 0
    payload = [m.to_dict() for m in messages]
    ids = iter(user_ids)
    count = 0
    while batch := list(islice(ids, MAX_MULTICAST)):
        count += 1
        session.execute(insert(OutboxMessage).values(
            kind=kind, recipients=batch, messages=payload, priority=int(priority), urgent=urgent,
            dedupe_key=None if dedupe_key is None else f"{dedupe_key}#{count}", cost=len(batch),
            next_attempt_at=now, created_at=now))
    return count
