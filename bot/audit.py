"""The audit log's one writer and its reader: who changed whose role, seat or access.

`record` is the only code that writes `audit_log`, and nothing updates or deletes it (the database
refuses both; bot/models/audit.py). Callers pass members and scopes, never names: an entry names
people by member id, so erasing a member leaves the record, read as "a member who has deleted their
data". `entries` answers "what happened in my scope", for the chat, the console and
`khabuan audit`.

Domain level: depends on the models and scopes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from .models import AuditAction, AuditEntry, AuditVia, Member, Province, ProvinceGroup, Region, Role, ScopeKind
from .scopes import Scope

__all__ = ["AuditAction", "AuditVia", "Line", "entries", "lines", "record"]

# Detail values are ids, codes, counts and flags; text that could carry a name is refused.
_DETAIL_TYPES = (int, bool, type(None))
_MAX_DETAIL_TEXT = 40


def _check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, str):
            if len(value) > _MAX_DETAIL_TEXT or not value.isascii():
                raise ValueError(f"audit detail {key!r} must be an id or a code, not free text")
        elif not isinstance(value, _DETAIL_TYPES):
            raise ValueError(f"audit detail {key!r} must be an id, a code, a count or a flag")
        clean[key] = value
    return clean


def record(session: Session, *, action: AuditAction, via: AuditVia, now: datetime,
           actor: Member | None = None, subject: Member | None = None, role: Role | str | None = None,
           scope: Scope | None = None, details: Mapping[str, Any] | None = None) -> AuditEntry:
    """Append one entry, in the caller's transaction (it stands or falls with the change itself)."""
    entry = AuditEntry(
        at=now, action=action, via=via,
        actor_id=actor.id if actor is not None else None,
        subject_id=subject.id if subject is not None else None,
        role=role.value if isinstance(role, Role) else role,
        scope_kind=scope.kind if scope is not None else None,
        scope_code=scope.code if scope is not None else None,
        details=_check_details(details) if details else None,
    )
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, *, within: Scope | None = None, since: datetime | None = None,
            member: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries newest first: those whose scope lies inside `within` (None: all), since a moment,
    about or by members whose name, display name or phone contains `member` (operators only)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if member:
        actor, subject = aliased(Member), aliased(Member)
        needle = f"%{member.strip()}%"
        matches = lambda m: or_(m.full_name.ilike(needle), m.display_name.ilike(needle),  # noqa: E731
                                m.phone.ilike(needle), m.line_user_id == member.strip())
        query = (query.outerjoin(actor, AuditEntry.actor_id == actor.id)
                 .outerjoin(subject, AuditEntry.subject_id == subject.id)
                 .where(or_(matches(actor), matches(subject))))
    if within is not None and not within.is_national:
        codes = _codes_inside(session, within)
        query = query.where(or_(*[and_(AuditEntry.scope_kind == kind, AuditEntry.scope_code.in_(sorted(found)))
                                  for kind, found in codes.items() if found]))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def _codes_inside(session: Session, within: Scope) -> dict[ScopeKind, set[str]]:
    """The scope itself and every group and province under it, by kind (a region: its groups and
    their provinces, at most ~100 codes), so the filter runs in SQL."""
    codes: dict[ScopeKind, set[str]] = {within.kind: {within.code}}
    if within.kind is ScopeKind.REGION:
        groups = set(session.scalars(select(ProvinceGroup.code).join(ProvinceGroup.region)
                                     .where(Region.code == within.code)))
        codes[ScopeKind.GROUP] = groups
        codes[ScopeKind.PROVINCE] = set(session.scalars(select(Province.code).join(Province.group)
                                                        .where(ProvinceGroup.code.in_(groups)))) if groups else set()
    elif within.kind is ScopeKind.GROUP:
        codes[ScopeKind.PROVINCE] = set(session.scalars(select(Province.code).join(Province.group)
                                                        .where(ProvinceGroup.code == within.code)))
    return codes


@dataclass(frozen=True)
class Line:
    """One entry as people read it; `actor`/`subject` are None for "the system"/"nobody yet"."""

    at: datetime
    action: AuditAction
    via: AuditVia
    actor: str | None
    subject: str | None
    role: str | None
    scope: str | None
    details: dict[str, Any]


def who(member: Member | None, erased_label: str, *, personal: bool) -> str | None:
    """A member as an entry names them: their name where personal data may be shown, else their id."""
    if member is None:
        return None
    if member.erased_at is not None:
        return erased_label
    if personal:
        return member.full_name or member.display_name or f"#{member.id}"
    return f"#{member.id}"


def lines(rows: Iterable[AuditEntry], *, erased_label: str, personal: bool) -> list[Line]:
    return [Line(at=row.at, action=row.action, via=row.via,
                 actor=who(row.actor, erased_label, personal=personal),
                 subject=who(row.subject, erased_label, personal=personal),
                 role=row.role, scope=row.scope, details=dict(row.details or {}))
            for row in rows]
