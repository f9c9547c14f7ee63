"""Daily housekeeping: forget what is no longer needed (less data kept, less personal data kept)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select, update

from .db import transaction
from .media import media_store
from .models import Invitation, OutboxMessage, OutboxStatus, ProcessedEvent, ReportPhoto

if TYPE_CHECKING:
    from .services import Services
    from .jobs import JobRegistry

# LINE redelivers a webhook event for at most a few hours; a week of ids is plenty for dedupe.
EVENTS_KEPT = timedelta(days=7)
# Sent rows hold LINE user ids (their message text is cleared once LINE has it): a month, for support.
SENT_KEPT = timedelta(days=30)
# A photo sent for a report that was never saved (cancelled, abandoned) is kept a week, in case the
# person resumes; then its row and its bytes go.
UNLINKED_PHOTOS_KEPT = timedelta(days=7)
# Bytes stored for a photo whose transaction then rolled back have no row; a day is far longer than
# any transaction, so a younger file may still be getting its row.
STRAY_FILES_KEPT = timedelta(days=1)
PHOTO_PREFIX = "reports/"

# An invitation's phone and name (personal data of someone who may never have joined) are cleared a
# month after it closed (accepted, withdrawn or expired); the row stays for the audit log's ids.
INVITATION_KEPT = timedelta(days=30)

log = logging.getLogger(__name__)


def prune(services: Services, fire_time: datetime) -> int:
    """Delete processed webhook ids older than a week and sent outbox rows older than a month;
    clear the phone and name of invitations closed more than a month ago; sweep stray photos."""
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
    return events + sent + invitations + sweep_photos(services, fire_time)


def sweep_photos(services: Services, fire_time: datetime) -> int:
    """Delete unlinked photos older than a week (row and bytes) and stored bytes no row names."""
    store = media_store(services.settings)
    removed = 0
    with transaction(services.session_factory) as session:
        old = list(session.execute(select(ReportPhoto.id, ReportPhoto.path).where(
            ReportPhoto.report_id.is_(None), ReportPhoto.created_at < fire_time - UNLINKED_PHOTOS_KEPT)))
        if old:
            session.execute(delete(ReportPhoto).where(ReportPhoto.id.in_([row_id for row_id, _ in old])))
    for _, key in old:  # after the rows are gone: a failure here leaves a stray file, swept below
        if key:
            store.delete(key)
    removed += len(old)
    with services.session_factory() as session:
        known = set(session.scalars(select(ReportPhoto.path).where(ReportPhoto.path.is_not(None))))
    for stored in store.list(PHOTO_PREFIX):
        if stored.key not in known and stored.modified_at < fire_time - STRAY_FILES_KEPT:
            store.delete(stored.key)
            removed += 1
    if removed:
        log.info("housekeeping: %d photo(s) removed", removed)
    return removed


def register_jobs(registry: JobRegistry) -> None:
    from .jobs import JobSpec

    registry.add(JobSpec("housekeeping", prune, {"hour": 3, "minute": 30},
                         "delete processed webhook ids > 7 days, sent outbox rows > 30 days, photos of no report > 7 days; "
                         "forget the phone and name of invitations closed > 30 days"))
