"""The monthly message quota: what LINE says is left, what the outbox still needs, who to tell.

LINE counts every recipient of a push or multicast against a monthly quota. When what is
left cannot cover everything due, low-priority rows (reminders, digests) wait so ballots and
certification outcomes still go, and the national secretariat is told once a month.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from linebot.v3.messaging import TextMessage
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import metrics
from ..config import Settings
from ..i18n import _, use_locale
from ..line import LineGateway, Quota
from ..models import (
    Member,
    OutboxMessage,
    OutboxStatus,
    Priority,
    Role,
    RoleGrant,
    ScopeKind,
)
from .outbox import enqueue

log = logging.getLogger(__name__)
NOTICE_KIND = "quota.low"
REFRESH_SECONDS = 60.0


class QuotaTracker:
    """LINE's quota and consumption, asked at most once a minute and counted down locally between.

    Shared by the threads of one process. Another process spending meanwhile makes our count
    optimistic for up to a minute; LINE's own 429 then catches it and forces a refresh.
    """

    def __init__(self, gateway: LineGateway, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.gateway = gateway
        self.refresh_seconds = refresh_seconds
        self._quota: Quota | None = None
        self._spent = 0  # sent by us since the last refresh
        self._fetched = float("-inf")  # monotonic; a frozen wall clock in tests must not stop refreshes
        self._lock = threading.Lock()

    def remaining(self) -> int | None:
        """Messages left this month; None when unlimited or LINE could not be asked (then we send
        and let LINE decide, rather than stop all delivery because the quota endpoint hiccuped)."""
        with self._lock:
            if time.monotonic() - self._fetched >= self.refresh_seconds:
                self._quota = self.gateway.quota()
                self._spent = 0
                self._fetched = time.monotonic()
                self._publish()
            if self._quota is None or self._quota.limit is None:
                return None
            return max(0, self._quota.limit - self._quota.used - self._spent)

    def spend(self, cost: int) -> None:
        with self._lock:
            self._spent += cost
            self._publish()

    def _publish(self) -> None:
        """What we know, for /metrics (bot.metrics): LINE's last answer plus what we sent since."""
        if self._quota is not None:
            metrics.record_quota(self._quota.limit, self._quota.used + self._spent)

    def invalidate(self) -> None:
        """Ask LINE again on the next check (after LINE itself said the month is used up)."""
        with self._lock:
            self._fetched = float("-inf")


def queued_cost(session: Session, *, below_priority: int | None = None) -> int:
    """What the pending outbox rows will cost; with below_priority, only the more important ones."""
    query = select(func.coalesce(func.sum(OutboxMessage.cost), 0)).where(
        OutboxMessage.status == OutboxStatus.PENDING)
    if below_priority is not None:
        query = query.where(OutboxMessage.priority < below_priority)
    return int(session.scalar(query) or 0)


def reserved_for_important(session: Session) -> int:
    """Quota that low-priority rows must leave for pending high and normal rows."""
    return queued_cost(session, below_priority=Priority.LOW)


def month_key(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.timezone).strftime("%Y-%m")


def national_secretariat(session: Session) -> list[Member]:
    return list(session.scalars(
        select(Member).join(RoleGrant, RoleGrant.member_id == Member.id)
        .where(RoleGrant.role == Role.SECRETARIAT, RoleGrant.scope_kind == ScopeKind.NATIONAL,
               Member.active.is_(True), Member.erased_at.is_(None))
        .distinct().order_by(Member.id)))


def notify_secretariat(session: Session, settings: Settings, now: datetime, *,
                       remaining: int, queued: int) -> list[int]:
    """Queue the month's "quota is running out" notice, once per month (dedupe key per month).

    Urgent (quiet hours would delay it for nothing) and high priority, so it goes before the
    rows it is about; it costs one message per secretariat member.
    """
    members = national_secretariat(session)
    if not members:
        log.warning("quota is short and no member holds the national secretariat role to tell")
        return []
    month = month_key(now, settings)
    by_locale: dict[str, list[str]] = {}
    for member in members:
        by_locale.setdefault(member.locale or settings.default_locale, []).append(member.line_user_id)
    ids: list[int] = []
    for locale, users in sorted(by_locale.items()):
        with use_locale(locale):
            message = TextMessage(text=_("quota.low_notice", remaining=f"{remaining:,}", queued=f"{queued:,}"))
        rows = enqueue(session, users, [message], now=now, kind=NOTICE_KIND, priority=Priority.HIGH,
                       urgent=True, dedupe_key=f"{NOTICE_KIND}:{month}:{locale}")
        ids += [row.id for row in rows]
    return ids
