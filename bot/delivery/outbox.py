"""Writing pushes into the outbox, in the caller's transaction."""
from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import OutboxMessage, Priority

MAX_MULTICAST = 500


def enqueue(
    session: Session,
    recipients: Sequence[str],
    messages: Sequence[Message],
    *,
    kind: str,
    priority: int = Priority.NORMAL,
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> list[OutboxMessage]:
    """Queue the same messages for recipients: one push each for groups, multicasts of ≤ 500 users.

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
                            urgent=urgent, dedupe_key=key)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows
