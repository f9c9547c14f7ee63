"""Organizations: who certifies which, telling them, deciding, and telling the leader.

The rules of certification (รับรองสถานภาพ), apart from the conversation that registers an
organization or records a decision (bot/handlers/organizations.py) and the card a certifier sees
(bot/cards/organizations.py). Certification is the movement vouching for an organization: a
coordinator or secretariat member whose scope covers its province decides, never for their own.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from . import ui
from .cards.organizations import certification_card
from .delivery import enqueue
from .i18n import _, use_locale
from .models import Member, Organization, OrgStatus, Priority, Province, Role
from .roles import has_role, members_covering
from .scopes import Scope, contains

CERTIFIERS = (Role.COORDINATOR, Role.SECRETARIAT)


class NotYours(str, Enum):
    """Why a member may not decide an organization now."""

    NOT_ALLOWED = "not_allowed"  # no certifier role covering its province
    OWN = "own"  # they registered it or are its contact
    DECIDED = "decided"  # someone decided it already


def why_not_decide(member: Member | None, org: Organization) -> NotYours | None:
    if not has_role(member, CERTIFIERS, org.province):
        return NotYours.NOT_ALLOWED
    if member is not None and member.id in (org.registered_by_id, org.contact_member_id):
        return NotYours.OWN
    if org.status is not OrgStatus.PENDING:
        return NotYours.DECIDED
    return None


def notify_certifiers(session: Session, org: Organization, now: datetime, *,
                      author: Member | None) -> tuple[int, list[int]]:
    """Queue a certification request to every coordinator/secretariat covering the province.

    One push per language so each reads it in their own. Returns how many certifiers were told
    (0: nobody covers the province) and the outbox ids (the webhook sends them after its commit).
    """
    certifiers = [m for m in members_covering(session, CERTIFIERS, org.province)
                  if m.id != (author.id if author else None)]
    by_locale: dict[str, list[str]] = {}
    for m in certifiers:
        by_locale.setdefault(m.locale, []).append(m.line_user_id)
    ids: list[int] = []
    for locale, users in by_locale.items():
        with use_locale(locale):
            rows = enqueue(session, users, [certification_card(org, locale)], now=now,
                           kind="org.certification_request",
                           priority=Priority.NORMAL, dedupe_key=f"org:{org.id}:request:{locale}")
        ids += [r.id for r in rows]
    return len(certifiers), ids


def decide(session: Session, org: Organization, member: Member | None, now: datetime, *,
           certified: bool, reason: str | None = None) -> list[int]:
    """Record the decision and queue the leader's notice (once per organization); outbox ids."""
    org.status = OrgStatus.CERTIFIED if certified else OrgStatus.REJECTED
    org.decided_by, org.decided_at, org.decision_reason = member, now, reason
    leader = org.registered_by
    if leader is None or not leader.active or leader.erased_at is not None:
        return []
    with use_locale(leader.locale):
        message = ui.text(_("cert.leader_certified", name=org.name) if certified
                          else _("cert.leader_rejected", name=org.name, reason=reason))
    rows = enqueue(session, [leader.line_user_id], [message], now=now, kind=f"org.{org.status.value}",
                   priority=Priority.HIGH, urgent=False, dedupe_key=f"org:{org.id}:outcome")
    return [r.id for r in rows]


def pending_for(session: Session, member: Member) -> Sequence[Organization]:
    """Organizations waiting for certification in this member's scopes, oldest first."""
    candidates = session.scalars(
        select(Organization).where(Organization.status == OrgStatus.PENDING)
        .options(selectinload(Organization.province).selectinload(Province.group),
                 selectinload(Organization.issues), selectinload(Organization.registered_by))
        .order_by(Organization.created_at)
    ).all()
    return [o for o in candidates if any(g.role in (*CERTIFIERS, Role.ADMIN) and contains(Scope.of(g), o.province)
                                         for g in member.roles)]
