"""Erasure ("ลบข้อมูลของฉัน"): the person's name, phone and LINE display name leave every table.

The member row stays (foreign keys, counts), its personal fields cleared. Copies made elsewhere are
handled where we know them (an organization's contact phone, the person's own conversation state,
pushes queued for them alone) and then swept for in every other text and JSON column: a queued
certification card still carries the name and phone of whoever registered the organization, and a
report's description may quote them. Each occurrence is replaced by REDACTED, so the rest of a
message, report or card stays usable (a coordinator can still certify the organization).

The sweep matches whole strings as stored, so it looks for every form we write a value in: the
name as typed, the phone as digits, "081-234-5678" and the +66 forms, and the display name.
Values shorter than MIN_NEEDLE characters are replaced only where a whole string equals them (a
two-letter display name must not mangle every word that contains it). The `members`
table itself is not swept: another person with the same name keeps it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, String, Text, and_, cast, or_, select, update
from sqlalchemy.orm import Session

from . import thai
from .models import Base, ConversationState, Member, Organization, OutboxMessage, OutboxStatus

REDACTED = "–"
MIN_NEEDLE = 4
# Other people's member rows keep a name they share; reference data and bookkeeping never hold a
# person's copy (a display name like "เชียงใหม่" or "ชุมชน" must not rename a province or an issue).
# The audit log is append-only and holds member ids, never names or phones (bot/audit.py).
SKIPPED_TABLES = {"members", "audit_log", "regions", "province_groups", "provinces", "strategic_issues", "alembic_version",
                  "apscheduler_jobs", "job_runs", "scheduler_leases", "processed_events"}


def phone_forms(phone: str) -> list[str]:
    """The ways a stored phone number may be written in text we generated or a person typed."""
    digits = thai.parse_phone(phone) or phone
    forms = {digits, thai.format_phone(digits)}
    if digits.startswith("0"):
        rest = digits[1:]
        spaced = thai.format_phone(digits).replace("-", " ")  # "089 123 4567"
        forms |= {spaced, "+66" + rest, "+66 " + rest, "+66 " + spaced[1:]}
    return sorted(forms)


@dataclass(frozen=True)
class Needles:
    """What must not be left anywhere.

    `parts` (MIN_NEEDLE characters or more) are replaced wherever they occur, longest first so a
    longer form is replaced whole. `whole` (every value, short ones too) are replaced where a
    whole string equals them: a three-letter nickname typed as the name still leaves a card's
    "registered by" line, and "Join" keeps its "Jo".
    """

    parts: tuple[str, ...]
    whole: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.whole)


def needles_of(member: Member) -> Needles:
    """The name and phone are replaced inside texts (a card's line, a report quoting them); the LINE
    display name only where a whole text equals it: it is often a common word or a place name."""
    partial: set[str] = set()
    if member.full_name and member.full_name.strip():
        partial |= {member.full_name.strip(), thai.normalize(member.full_name)}
    if member.phone:
        partial.update(phone_forms(member.phone))
    whole = set(partial)
    if member.display_name and member.display_name.strip():
        whole |= {member.display_name.strip(), thai.normalize(member.display_name)}
    partial.discard("")
    whole.discard("")
    parts = sorted((v for v in partial if len(v) >= MIN_NEEDLE), key=len, reverse=True)
    return Needles(tuple(parts), frozenset(whole))


def redact_text(text: str, needles: Needles) -> str:
    if text.strip() in needles.whole:
        return REDACTED
    for needle in needles.parts:
        if needle in text:
            text = text.replace(needle, REDACTED)
    return text


def redact_value(value: Any, needles: Needles) -> Any:
    """A JSON value with the needles replaced in every string (keys are ours, kept)."""
    if isinstance(value, str):
        return redact_text(value, needles)
    if isinstance(value, list):
        return [redact_value(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v, needles) for k, v in value.items()}
    return value


def _searchable_columns(table):
    for column in table.columns:
        if column.primary_key or isinstance(column.type, Enum):
            continue
        if isinstance(column.type, (String, Text, JSON)):
            yield column


def _condition(column, needles: Needles):
    """A cheap SQL filter for rows that may hold a needle; redact_* decides for sure."""
    if isinstance(column.type, JSON):
        # Stored as serialized text: strings appear escaped (\uXXXX) or raw, whole ones quoted.
        text = cast(column, Text)
        forms = {f for n in needles.parts for f in (n, json.dumps(n)[1:-1])}
        forms |= {f for n in needles.whole - set(needles.parts)
                  for f in (f'"{n}"', json.dumps(n), json.dumps(n, ensure_ascii=False))}
        return or_(*(text.contains(f, autoescape=True) for f in forms))
    return or_(column.in_(sorted(needles.whole)), *(column.contains(n, autoescape=True) for n in needles.parts))


def sweep(session: Session, needles: Needles) -> int:
    """Replace the needles in every text and JSON column of every table but `members`; rows changed."""
    if not needles:
        return 0
    changed = 0
    for table in Base.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES or not table.primary_key.columns:
            continue
        pk = list(table.primary_key.columns)
        for column in _searchable_columns(table):
            is_json = isinstance(column.type, JSON)
            for row in session.execute(select(*pk, column).where(_condition(column, needles))).all():
                old = row[-1]
                new = redact_value(old, needles) if is_json else redact_text(old, needles)
                if new == old:
                    continue  # a LIKE false positive (e.g. an escape sequence in other text)
                key = and_(*(c == v for c, v in zip(pk, row[:-1])))
                session.execute(update(table).where(key).values({column.name: new})
                                .execution_options(synchronize_session=False))
                changed += 1
    return changed


def erase_member(session: Session, member: Member, now: datetime) -> None:
    """Forget the person: their fields, their roles, their pending pushes, and every copy elsewhere."""
    needles = needles_of(member)
    phones = phone_forms(member.phone) if member.phone else []
    # Organizations they are the contact of (or that list their phone) stay the movement's records.
    session.execute(update(Organization).where(Organization.contact_member_id == member.id)
                    .values(contact_phone=None, contact_member_id=None)
                    .execution_options(synchronize_session=False))
    if phones:
        session.execute(update(Organization).where(Organization.contact_phone.in_(phones))
                        .values(contact_phone=None).execution_options(synchronize_session=False))
    for grant in list(member.roles):
        session.delete(grant)
    # Pushes still waiting for this person alone (e.g. a reminder) are for someone who left.
    for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING,
            cast(OutboxMessage.recipients, Text).contains(member.line_user_id, autoescape=True))):
        if row.recipients == [member.line_user_id]:
            session.delete(row)
    state = session.get(ConversationState, member.id)
    if state is not None:
        session.delete(state)
    member.erase_personal_data(now)
    session.flush()
    # Everything else: queued and failed pushes to others (a certification card names the
    # registrant), other people's flows, reports, notices…
    sweep(session, needles)
