"""Daily housekeeping: forget what is no longer needed (less data kept, less personal data kept)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, update

from .db import transaction
from .models import Invitation, OutboxMessage, OutboxStatus, ProcessedEvent

if TYPE_CHECKING:
    from .services import Services
    from .jobs import JobRegistry

# LINE redelivers a webhook event for at most a few hours; a week of ids is plenty for dedupe.
EVENTS_KEPT = timedelta(days=7)
# Sent rows hold LINE user ids (their message text is cleared once LINE has it): a month, for support.
SENT_KEPT = timedelta(days=30)
# An invitation's phone and name (personal data of someone who may never have joined) are cleared a
# month after it closed (accepted, withdrawn or expired); the row stays for the audit log's ids.
INVITATION_KEPT = timedelta(days=30)


def prune(services: Services, fire_time: datetime) -> int:
    """Delete processed webhook ids older than a week and sent outbox rows older than a month;
    clear the phone and name of invitations closed more than a month ago."""
    with transaction(services.session_factory) as session:
        events = session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < fire_time - EVENTS_KEPT)).rowcount
        sent = session.execute(
            delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT,
                                        OutboxMessage.sent_at < fire_time - SENT_KEPT)).rowcount
        cutoff = fire_time - INVITATION_KEPT
        invitations = session.execute(
            update(Invitation).where(or_(Invitation.phone.is_not(None), Invitation.name.is_not(None)),
                                     or_(Invitation.accepted_at < cutoff, Invitation.withdrawn_at < cutoff,
                                         Invitation.expires_at < cutoff))
            .values(phone=None, name=None)).rowcount
    return events + sent + invitations


def register_jobs(registry: JobRegistry) -> None:
    from .jobs import JobSpec

    registry.add(JobSpec("housekeeping", prune, {"hour": 3, "minute": 30},
                         "delete processed webhook ids > 7 days and sent outbox rows > 30 days; "
                         "forget the phone and name of invitations closed > 30 days"))
