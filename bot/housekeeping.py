"""Daily housekeeping: forget what is no longer needed (less data kept, less personal data kept)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete

from .db import transaction
from .models import OutboxMessage, OutboxStatus, ProcessedEvent

if TYPE_CHECKING:
    from .services import Services
    from .jobs import JobRegistry

# LINE redelivers a webhook event for at most a few hours; a week of ids is plenty for dedupe.
EVENTS_KEPT = timedelta(days=7)
# Sent rows hold LINE user ids (their message text is cleared once LINE has it): a month, for support.
SENT_KEPT = timedelta(days=30)


def prune(services: Services, fire_time: datetime) -> int:
    """Delete processed webhook ids older than a week and sent outbox rows older than a month."""
    with transaction(services.session_factory) as session:
        events = session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < fire_time - EVENTS_KEPT)).rowcount
        sent = session.execute(
            delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT,
                                        OutboxMessage.sent_at < fire_time - SENT_KEPT)).rowcount
    return events + sent


def register_jobs(registry: JobRegistry) -> None:
    from .jobs import JobSpec

    registry.add(JobSpec("housekeeping", prune, {"hour": 3, "minute": 30},
                         "delete processed webhook ids > 7 days and sent outbox rows > 30 days"))
