"""Appointments: who may appoint or remove whom, where; delegate seats; invitations.

The one permission table is `PERMISSIONS` below (docs/APPOINTMENTS.md shows the same table, and
tests/test_appointments_matrix.py checks every pair). An actor's standing comes from one of
their role grants and reaches as far as that grant's scope:

=========================  ========  ===========  ===========  ===========  =====
standing (from a grant)    leader    coordinator  delegate     secretariat  admin
=========================  ========  ===========  ===========  ===========  =====
national office            grant     grant        grant        grant        grant
coordinator                grant     grant        nominate     –            –
leader, delegate           –         –            –            –            –
=========================  ========  ===========  ===========  ===========  =====

- *national office*: an admin or secretariat grant with the national scope.
- *coordinator*: a coordinator grant at any scope, and an admin or secretariat grant of a region,
  group or province (they act for that area, like its coordinator).
- The target scope must lie inside (or be) the scope of the grant that gives the power; a
  national-office grant reaches everywhere. "nominate" means a delegate seat waits for the
  national office to confirm it; "grant" gives (and confirms) it at once.
- Removing follows the same table: "grant" may remove the role (a confirmed seat too);
  "nominate" may withdraw a nomination that is not confirmed yet.
- Nobody appoints themselves. An operator at the server (`khabuan` commands, imports) acts as
  the national office.
- Where a role can be given (`ROLE_SCOPES`): a leader in a province; a delegate seat in a region,
  group or province (3 per province, 2 per group, 5 per region: `assembly.SEATS`); an admin
  nationally; a coordinator or secretariat at any level.

Invitations stand for a person who has not registered: by phone (attached when someone registers
for the first time with that number; a typed phone proves nothing, so the inviter is told the name
they registered with and can remove the role with one tap) or by a 6-character code read out at a
meeting (single use). Secretariat and admin invitations are code only (`CODE_ONLY_ROLES`): a phone
never attaches them. An invitation attaches only while its inviter may still give that role, and
never to the inviter themselves. They expire after
INVITATION_DAYS days and can be withdrawn. An open invitation for a delegate seat holds the seat.

Every change is written to the audit log (bot/audit.py) in the same transaction, and the person
concerned is told by a push (delivery.enqueue, deduplicated by the audit entry).

Domain level: roles, scopes, audit, assembly's seat formula, cards for the pushes.
"""
from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from . import audit, roles, thai
from .db import insert_or_skip
from .assembly import SEATS
from .cards.appointments import appointed_card, dismissed_text, invitation_accepted_text
from .delivery import enqueue
from .i18n import _, use_locale
from .models import (
    AuditAction,
    AuditVia,
    Invitation,
    Member,
    Priority,
    Province,
    ProvinceGroup,
    Region,
    Role,
    RoleGrant,
    ScopeKind,
    SeatNomination,
)
from .scopes import MODELS, Place, Scope, contains, in_scope, place_of

INVITATION_DAYS = 30
CODE_LENGTH = 6
# No 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: a code read aloud or typed on a cheap phone cannot be misread.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
# Invitations for these roles attach only by their code: anyone may register with anyone's phone.
CODE_ONLY_ROLES = frozenset({Role.SECRETARIAT, Role.ADMIN})


class Power(int, enum.Enum):
    NONE = 0
    NOMINATE = 1  # a delegate seat proposed; the national office confirms it
    GRANT = 2  # given at once (a delegate seat: confirmed)


class Standing(str, enum.Enum):
    NATIONAL_OFFICE = "national_office"
    COORDINATOR = "coordinator"
    NONE = "none"


# THE permission table: standing → target role → power inside the standing grant's scope.
PERMISSIONS: dict[Standing, dict[Role, Power]] = {
    Standing.NATIONAL_OFFICE: {Role.LEADER: Power.GRANT, Role.COORDINATOR: Power.GRANT, Role.DELEGATE: Power.GRANT,
                               Role.SECRETARIAT: Power.GRANT, Role.ADMIN: Power.GRANT},
    Standing.COORDINATOR: {Role.LEADER: Power.GRANT, Role.COORDINATOR: Power.GRANT, Role.DELEGATE: Power.NOMINATE,
                           Role.SECRETARIAT: Power.NONE, Role.ADMIN: Power.NONE},
    Standing.NONE: {role: Power.NONE for role in Role},
}

ALL_KINDS = tuple(ScopeKind)
ROLE_SCOPES: dict[Role, tuple[ScopeKind, ...]] = {
    Role.LEADER: (ScopeKind.PROVINCE,),
    Role.DELEGATE: tuple(SEATS),
    Role.COORDINATOR: ALL_KINDS,
    Role.SECRETARIAT: ALL_KINDS,
    Role.ADMIN: (ScopeKind.NATIONAL,),
}
# The order roles are offered in (most common first).
ROLE_ORDER = (Role.LEADER, Role.DELEGATE, Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)


def standing(grant: RoleGrant) -> Standing:
    national = grant.scope_kind is ScopeKind.NATIONAL
    if grant.role in (Role.ADMIN, Role.SECRETARIAT):
        return Standing.NATIONAL_OFFICE if national else Standing.COORDINATOR
    if grant.role is Role.COORDINATOR:
        return Standing.COORDINATOR
    return Standing.NONE


def _acting(actor: Member | None) -> bool:
    return actor is not None and actor.active and actor.erased_at is None


def power(actor: Member | None, role: Role, place: Place) -> Power:
    """What this actor may do about `role` at `place` (None: an operator at the server)."""
    if actor is None:
        return Power.GRANT
    if not _acting(actor):
        return Power.NONE
    best = Power.NONE
    for grant in actor.roles:
        allowed = PERMISSIONS[standing(grant)][role]
        if allowed > best and contains(Scope.of(grant), place):
            best = allowed
    return best


def reach(actor: Member | None) -> list[Scope]:
    """The scopes an actor appoints in (widest first, no duplicates); national for an operator."""
    if actor is None:
        return [Scope.NATIONAL]
    if not _acting(actor):
        return []
    found = {Scope.of(g) for g in actor.roles if standing(g) is not Standing.NONE}
    return sorted(found, key=lambda s: (s.level, s.code))


def is_appointer(actor: Member | None) -> bool:
    return bool(reach(actor))


def in_reach(actor: Member | None, member: Member) -> bool:
    """May this actor pick `member` to appoint or remove: registered, living inside their reach
    (the people `find_people` would show them). The chat and the console ask the same."""
    if not member.is_registered:
        return False
    return any(scope.is_national or (member.province is not None and contains(scope, member.province))
               for scope in reach(actor))


def is_national_office(actor: Member | None) -> bool:
    return _acting(actor) and any(standing(g) is Standing.NATIONAL_OFFICE for g in actor.roles)


def roles_offered(actor: Member | None) -> list[Role]:
    """Roles this actor may give somewhere (the role chips of the appoint flow)."""
    if actor is None:
        return list(ROLE_ORDER)
    standings = {standing(g) for g in actor.roles} if _acting(actor) else set()
    return [r for r in ROLE_ORDER if any(PERMISSIONS[s][r] is not Power.NONE for s in standings)]


# ---- places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    scope: Scope
    place: Place
    name_th: str
    name_en: str
    region: str  # code of its region ("" for national)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_th


def areas(session: Session) -> list[Area]:
    """Every scope there is, national first, each region followed by its groups and provinces."""
    out = [Area(Scope.NATIONAL, Place(None, None, None), "", "", "")]
    regions = session.scalars(select(Region).order_by(Region.id)).all()
    groups = session.scalars(select(ProvinceGroup).order_by(ProvinceGroup.id)).all()
    provinces = session.scalars(select(Province).order_by(Province.name_th)).all()
    group_region = {g.id: g.region_id for g in groups}
    region_code = {r.id: r.code for r in regions}
    group_code = {g.id: g.code for g in groups}
    for r in regions:
        out.append(Area(Scope(ScopeKind.REGION, r.code), Place(r.code, None, None), r.name_th, r.name_en, r.code))
        for g in groups:
            if g.region_id != r.id:
                continue
            out.append(Area(Scope(ScopeKind.GROUP, g.code), Place(r.code, g.code, None), g.name_th, g.name_en, r.code))
        for p in provinces:
            if group_region.get(p.group_id) != r.id:
                continue
            out.append(Area(Scope(ScopeKind.PROVINCE, p.code),
                            Place(region_code[r.id], group_code[p.group_id], p.code), p.name_th, p.name_en, r.code))
    return out


def scope_name(session: Session, scope: Scope, locale: str) -> str:
    """A scope as people read it: "ทั้งประเทศ", "ภาคเหนือ", "กลุ่มจังหวัดล้านนาตะวันตก", "จังหวัดเชียงใหม่"."""
    with use_locale(locale):
        if scope.is_national:
            return _("scope.national")
        model = MODELS[scope.kind]
        row = session.scalar(select(model).where(model.code == scope.code))
        if row is None:
            return str(scope)
        name = row.name(locale)
        if scope.kind is ScopeKind.PROVINCE:
            return _("scope.province", name=name)
        if scope.kind is ScopeKind.GROUP:
            return _("scope.group", name=name)
        return name


def appointable(session: Session, actor: Member | None, role: Role) -> list[Area]:
    """The areas where this actor may give `role` (only kinds the role takes; only inside their reach)."""
    kinds = ROLE_SCOPES[role]
    return [a for a in areas(session) if a.scope.kind in kinds and power(actor, role, a.place) is not Power.NONE]


# ---- outcomes and refusals ----------------------------------------------------------------------


class Why(str, enum.Enum):
    NOT_ALLOWED = "not_allowed"  # outside the table or outside the actor's scope
    WRONG_KIND = "wrong_kind"  # e.g. a leader of a region, a delegate of the nation
    UNKNOWN_SCOPE = "unknown_scope"
    SELF = "self"
    SEATS_FULL = "seats_full"
    NO_PERSON = "no_person"  # neither a member, a phone nor a code
    INVITATION_CLOSED = "invitation_closed"


@dataclass(frozen=True)
class Holder:
    """Someone holding (or about to hold) a delegate seat."""

    scope: Scope
    state: str  # "seat" | "nominated" | "invited"
    member: Member | None = None
    invitation: Invitation | None = None

    @property
    def key(self) -> str:
        if self.member is not None:
            return f"m{self.member.id}"
        assert self.invitation is not None
        return f"p{self.invitation.phone}" if self.invitation.phone else f"i{self.invitation.id}"

    @property
    def name(self) -> str | None:
        if self.member is not None:
            return self.member.full_name or self.member.display_name
        return self.invitation.name if self.invitation is not None else None


class Refused(Exception):
    def __init__(self, why: Why, holders: Sequence[Holder] = ()) -> None:
        super().__init__(why.value)
        self.why = why
        self.holders = list(holders)


class Done(str, enum.Enum):
    GRANTED = "granted"
    NOMINATED = "nominated"
    CONFIRMED = "confirmed"
    INVITED = "invited"
    ALREADY = "already"
    REMOVED = "removed"
    WITHDRAWN = "withdrawn"


@dataclass
class Outcome:
    done: Done
    role: Role
    scope: Scope
    member: Member | None = None
    invitation: Invitation | None = None
    outbox: list[int] = field(default_factory=list)  # pushes to send after the commit


# ---- seats ---------------------------------------------------------------------------------------


def seat_holders(session: Session, now: datetime, scope: Scope | None = None) -> dict[Scope, list[Holder]]:
    """Who holds each delegate seat: confirmed seats, nominations waiting, open invitations."""
    out: dict[Scope, list[Holder]] = {}

    def where(model):
        kinds = [model.scope_kind.in_(tuple(SEATS))]
        if scope is not None:
            kinds = [model.scope_kind == scope.kind, model.scope_code == scope.code]
        return kinds

    live = (Member.active.is_(True), Member.erased_at.is_(None))
    for grant in session.scalars(select(RoleGrant).join(Member, RoleGrant.member_id == Member.id)
                                 .where(RoleGrant.role == Role.DELEGATE, *where(RoleGrant), *live)
                                 .options(selectinload(RoleGrant.member)).order_by(RoleGrant.id)):
        out.setdefault(Scope.of(grant), []).append(Holder(Scope.of(grant), "seat", member=grant.member))
    for nom in session.scalars(select(SeatNomination).join(Member, SeatNomination.member_id == Member.id)
                               .where(SeatNomination.confirmed_at.is_(None), *where(SeatNomination), *live)
                               .options(selectinload(SeatNomination.member)).order_by(SeatNomination.id)):
        out.setdefault(Scope.of(nom), []).append(Holder(Scope.of(nom), "nominated", member=nom.member))
    for inv in session.scalars(select(Invitation).where(
            Invitation.role == Role.DELEGATE, *where(Invitation), Invitation.accepted_at.is_(None),
            Invitation.withdrawn_at.is_(None), Invitation.expires_at > now).order_by(Invitation.id)):
        out.setdefault(Scope.of(inv), []).append(Holder(Scope.of(inv), "invited", invitation=inv))
    return out


def _lock_area(session: Session, scope: Scope) -> None:
    """Seat changes in one area take turns (PostgreSQL row lock on the area; SQLite serializes anyway)."""
    if not scope.is_national:
        model = MODELS[scope.kind]
        session.scalar(select(model.id).where(model.code == scope.code).with_for_update())


# ---- appointing ----------------------------------------------------------------------------------


def member_by_phone(session: Session, phone: str) -> Member | None:
    """The registered member with this (normalized) phone; None when nobody, or several, have it."""
    found = session.scalars(select(Member).where(Member.phone == phone, Member.registered_at.is_not(None),
                                                 Member.erased_at.is_(None)).limit(2)).all()
    return found[0] if len(found) == 1 else None


def _check(session: Session, actor: Member | None, role: Role, scope: Scope) -> Power:
    if scope.kind not in ROLE_SCOPES[role]:
        raise Refused(Why.WRONG_KIND)
    place = place_of(session, scope)
    if place is None:
        raise Refused(Why.UNKNOWN_SCOPE)
    allowed = power(actor, role, place)
    if allowed is Power.NONE:
        raise Refused(Why.NOT_ALLOWED)
    return allowed


def appoint(session: Session, actor: Member | None, *, role: Role, scope: Scope, via: AuditVia, now: datetime,
            member: Member | None = None, phone: str | None = None, name: str | None = None,
            by_code: bool = False) -> Outcome:
    """Give `role` in `scope` to a member, or invite a phone (or anyone with a code) to it.

    Raises Refused when the table does not allow it, or a delegate area is full (with its holders).
    A phone that a registered member has is that member. Nothing changes twice: a second call
    with the same answers returns Done.ALREADY.
    """
    allowed = _check(session, actor, role, scope)
    if phone:
        phone = thai.parse_phone(phone)  # any format the caller was given; stored normalized
        if phone is None:
            raise Refused(Why.NO_PERSON)
    if member is None and phone:
        member = member_by_phone(session, phone)
    if member is None and not phone and not by_code:
        raise Refused(Why.NO_PERSON)
    if member is not None and actor is not None and member.id == actor.id:
        raise Refused(Why.SELF)
    if role is Role.DELEGATE:
        _lock_area(session, scope)
        holders = seat_holders(session, now, scope).get(scope, [])
        mine = [h for h in holders if (member is not None and h.member is not None and h.member.id == member.id)
                or (member is None and phone and h.invitation is not None and h.invitation.phone == phone)]
        if mine:
            held = mine[0]
            if held.state == "nominated" and allowed is Power.GRANT and member is not None:
                nomination = session.scalar(select(SeatNomination).where(
                    SeatNomination.member_id == member.id, SeatNomination.scope_kind == scope.kind,
                    SeatNomination.scope_code == scope.code))
                assert nomination is not None
                return confirm(session, actor, nomination, via=via, now=now)
            return Outcome(Done.ALREADY, role, scope, member=member, invitation=held.invitation)
        if len(holders) >= SEATS[scope.kind]:
            raise Refused(Why.SEATS_FULL, holders)
    if member is None:
        return _invite(session, actor, role=role, scope=scope, via=via, now=now, phone=phone, name=name,
                       confirmed=allowed is Power.GRANT)
    if role is Role.DELEGATE and allowed is Power.NOMINATE:
        return _nominate(session, actor, member, scope, via=via, now=now)
    return _grant(session, actor, member, role, scope, via=via, now=now)


def operator_grant(session: Session, member: Member, role: Role, scope: Scope, *, via: AuditVia,
                   now: datetime) -> bool:
    """An operator at the server gives a role as asked (`khabuan grant`, the simulator): no table
    and no seat limit (an over-full area shows in `khabuan delegates check`), no push; audited.
    Returns False when the member already had it."""
    if not _insert_grant(session, member, role, scope, granted_by=None, now=now):
        return False
    audit.record(session, action=AuditAction.GRANT, via=via, now=now, subject=member, role=role, scope=scope)
    return True


def _insert_grant(session: Session, member: Member, role: Role, scope: Scope, *, granted_by: Member | None,
                  now: datetime) -> bool:
    """Give the grant in ONE statement (INSERT … ON CONFLICT DO NOTHING on role_grants' unique
    key): a double tap in two processes, or chat and console at once, settles without an error
    (PostgreSQL makes the second wait for the first). True only when this call inserted it."""
    inserted = session.execute(
        insert_or_skip(session, RoleGrant, "member_id", "role", "scope_kind", "scope_code")
        .values(member_id=member.id, role=role, scope_kind=scope.kind, scope_code=scope.code,
                granted_by_id=granted_by.id if granted_by else None, granted_at=now)
        .returning(RoleGrant.id)).first()
    session.expire(member, ["roles"])
    return inserted is not None


def _grant(session: Session, actor: Member | None, member: Member, role: Role, scope: Scope, *,
           via: AuditVia, now: datetime, details: dict | None = None, tell: bool = True) -> Outcome:
    if not _insert_grant(session, member, role, scope, granted_by=actor, now=now):
        return Outcome(Done.ALREADY, role, scope, member=member)
    entry = audit.record(session, action=AuditAction.GRANT, via=via, now=now, actor=actor, subject=member,
                         role=role, scope=scope, details=details)
    outbox = _tell_appointed(session, member, role, scope, now, f"audit:{entry.id}") if tell else []
    return Outcome(Done.GRANTED, role, scope, member=member, outbox=outbox)


def _nominate(session: Session, actor: Member | None, member: Member, scope: Scope, *, via: AuditVia,
              now: datetime, details: dict | None = None) -> Outcome:
    session.add(SeatNomination(member_id=member.id, scope_kind=scope.kind, scope_code=scope.code,
                               nominated_by_id=actor.id if actor else None, nominated_at=now))
    session.flush()
    entry = audit.record(session, action=AuditAction.NOMINATE, via=via, now=now, actor=actor, subject=member,
                         role=Role.DELEGATE, scope=scope, details=details)
    outbox = _tell_appointed(session, member, Role.DELEGATE, scope, now, f"audit:{entry.id}", nominated=True)
    return Outcome(Done.NOMINATED, Role.DELEGATE, scope, member=member, outbox=outbox)


def confirm(session: Session, actor: Member | None, nomination: SeatNomination, *, via: AuditVia,
            now: datetime) -> Outcome:
    """The national office confirms a nominated seat: it becomes the member's delegate seat."""
    scope = Scope.of(nomination)
    if _check(session, actor, Role.DELEGATE, scope) is not Power.GRANT:
        raise Refused(Why.NOT_ALLOWED)
    member = nomination.member
    if nomination.confirmed_at is not None:
        return Outcome(Done.ALREADY, Role.DELEGATE, scope, member=member)
    nomination.confirmed_at, nomination.confirmed_by_id = now, actor.id if actor else None
    session.flush()
    _insert_grant(session, member, Role.DELEGATE, scope, granted_by=actor, now=now)
    entry = audit.record(session, action=AuditAction.CONFIRM, via=via, now=now, actor=actor, subject=member,
                         role=Role.DELEGATE, scope=scope, details={"nomination": nomination.id})
    outbox = _tell_appointed(session, member, Role.DELEGATE, scope, now, f"audit:{entry.id}")
    return Outcome(Done.CONFIRMED, Role.DELEGATE, scope, member=member, outbox=outbox)


def pending_nominations(session: Session, actor: Member | None) -> list[SeatNomination]:
    """Nominations waiting that this actor may confirm, oldest first."""
    rows = session.scalars(select(SeatNomination).join(Member, SeatNomination.member_id == Member.id)
                           .where(SeatNomination.confirmed_at.is_(None), Member.erased_at.is_(None))
                           .options(selectinload(SeatNomination.member)).order_by(SeatNomination.id)).all()
    out = []
    for row in rows:
        place = place_of(session, Scope.of(row))
        if place is not None and power(actor, Role.DELEGATE, place) is Power.GRANT:
            out.append(row)
    return out


# ---- removing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """Something a member holds that an actor may remove: a role grant or a waiting nomination."""

    kind: str  # "g" (grant) | "n" (nomination)
    id: int
    role: Role
    scope: Scope

    @property
    def token(self) -> str:
        return f"{self.kind}{self.id}"


def removable(session: Session, actor: Member | None, member: Member) -> list[Held]:
    out: list[Held] = []
    for grant in session.scalars(select(RoleGrant).where(RoleGrant.member_id == member.id).order_by(RoleGrant.id)):
        place = place_of(session, Scope.of(grant))
        if place is not None and power(actor, grant.role, place) is Power.GRANT:
            out.append(Held("g", grant.id, grant.role, Scope.of(grant)))
    for nom in session.scalars(select(SeatNomination).where(SeatNomination.member_id == member.id,
                                                            SeatNomination.confirmed_at.is_(None))):
        place = place_of(session, Scope.of(nom))
        if place is not None and power(actor, Role.DELEGATE, place) is not Power.NONE:
            out.append(Held("n", nom.id, Role.DELEGATE, Scope.of(nom)))
    return out


def remove(session: Session, actor: Member | None, member: Member, token: str, *, via: AuditVia,
           now: datetime) -> Outcome:
    """Remove one thing `removable` listed (by its token), checking the table again."""
    held = next((h for h in removable(session, actor, member) if h.token == token), None)
    if held is None:
        raise Refused(Why.NOT_ALLOWED)
    if held.kind == "g":
        roles.revoke(session, member, held.role, str(held.scope))
        if held.role is Role.DELEGATE:  # the nomination that led to this seat is done with too
            for nom in session.scalars(select(SeatNomination).where(
                    SeatNomination.member_id == member.id, SeatNomination.scope_kind == held.scope.kind,
                    SeatNomination.scope_code == held.scope.code)):
                session.delete(nom)
        details = None
    else:
        nomination = session.get(SeatNomination, held.id)
        assert nomination is not None
        session.delete(nomination)
        details = {"nomination": held.id}
    session.flush()
    session.expire(member, ["roles"])
    entry = audit.record(session, action=AuditAction.REVOKE, via=via, now=now, actor=actor, subject=member,
                         role=held.role, scope=held.scope, details=details)
    outbox: list[int] = []
    if member.active and member.erased_at is None and member.line_user_id:
        with use_locale(member.locale):
            message = dismissed_text(held.role, scope_name(session, held.scope, member.locale))
        outbox = [r.id for r in enqueue(session, [member.line_user_id], [message], now=now, kind="appoint.removed",
                                        priority=Priority.HIGH, dedupe_key=f"audit:{entry.id}")]
    return Outcome(Done.REMOVED, held.role, held.scope, member=member, outbox=outbox)


# ---- invitations ----------------------------------------------------------------------------------


def new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Invitation.id).where(Invitation.code == code)) is None:
            return code


def read_code(text: str) -> str | None:
    """A typed code in canonical form ("ab c-34 7" → "ABC347"), or None if it cannot be one."""
    raw = "".join(ch for ch in thai.normalize(text).upper() if ch not in " -.")
    if len(raw) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in raw):
        return raw
    return None


def _invite(session: Session, actor: Member | None, *, role: Role, scope: Scope, via: AuditVia, now: datetime,
            phone: str | None, name: str | None, confirmed: bool) -> Outcome:
    if actor is not None:  # one appointer's taps take turns (a double tap, chat and console at once)
        session.scalar(select(Member.id).where(Member.id == actor.id).with_for_update())
    if role in CODE_ONLY_ROLES:
        phone = None  # never attached by a phone: the appointer passes the code to the person
    if phone:
        existing = session.scalar(select(Invitation).where(
            Invitation.phone == phone, Invitation.role == role, Invitation.scope_kind == scope.kind,
            Invitation.scope_code == scope.code, Invitation.accepted_at.is_(None), Invitation.withdrawn_at.is_(None),
            Invitation.expires_at > now))
        if existing is not None:
            return Outcome(Done.ALREADY, role, scope, invitation=existing)
    invitation = Invitation(code=new_code(session), phone=phone, name=name, role=role, scope_kind=scope.kind,
                            scope_code=scope.code, confirmed=confirmed, invited_by_id=actor.id if actor else None,
                            created_at=now, expires_at=now + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    session.flush()
    audit.record(session, action=AuditAction.INVITE, via=via, now=now, actor=actor, role=role, scope=scope,
                 details={"invitation": invitation.id, "by_phone": bool(phone), "confirmed": confirmed})
    return Outcome(Done.INVITED, role, scope, invitation=invitation)


def open_invitations(session: Session, actor: Member | None, now: datetime) -> list[Invitation]:
    """Open invitations this actor may withdraw (theirs, or inside where they may give that role)."""
    rows = session.scalars(select(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.withdrawn_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())).all()
    return [r for r in rows if may_withdraw(session, actor, r)]


def may_withdraw(session: Session, actor: Member | None, invitation: Invitation) -> bool:
    if actor is not None and invitation.invited_by_id == actor.id:
        return True
    place = place_of(session, Scope.of(invitation))
    if place is None:
        return False
    # As removing: "nominate" withdraws only what would still be a nomination (an unconfirmed
    # delegate invitation); a confirmed seat, or any other role, needs the power to give it.
    needed = Power.NOMINATE if invitation.role is Role.DELEGATE and not invitation.confirmed else Power.GRANT
    return power(actor, invitation.role, place) >= needed


def withdraw(session: Session, actor: Member | None, invitation: Invitation, *, via: AuditVia,
             now: datetime) -> Outcome:
    scope = Scope.of(invitation)
    if not may_withdraw(session, actor, invitation):
        raise Refused(Why.NOT_ALLOWED)
    if not invitation.is_open(now):
        raise Refused(Why.INVITATION_CLOSED)
    invitation.withdrawn_at = now
    audit.record(session, action=AuditAction.INVITE_WITHDRAW, via=via, now=now, actor=actor, role=invitation.role,
                 scope=scope, details={"invitation": invitation.id})
    return Outcome(Done.WITHDRAWN, invitation.role, scope, invitation=invitation)


class Claim(str, enum.Enum):
    UNKNOWN = "unknown"  # no such code
    CLOSED = "closed"  # expired, withdrawn, used, or taken by someone else
    OWN = "own"  # the inviter typed their own invitation's code
    INVITER_GONE = "inviter_gone"  # whoever invited may no longer give that role
    WAITING = "waiting"  # kept for this person until they register
    ACCEPTED = "accepted"


def claim_code(session: Session, member: Member, code: str, now: datetime) -> tuple[Claim, Outcome | None]:
    """Someone typed an invitation code: accept it now if registered, else hold it for them."""
    invitation = session.scalar(select(Invitation).where(Invitation.code == code).with_for_update())
    if invitation is None:
        return Claim.UNKNOWN, None
    if not invitation.is_open(now) or invitation.claimed_by_id not in (None, member.id):
        return Claim.CLOSED, None
    if invitation.invited_by_id == member.id:
        return Claim.OWN, None
    if not inviter_may_give(session, invitation):
        return Claim.INVITER_GONE, None
    invitation.claimed_by_id = member.id
    if not member.is_registered:
        return Claim.WAITING, Outcome(Done.INVITED, invitation.role, Scope.of(invitation), invitation=invitation)
    return Claim.ACCEPTED, accept(session, invitation, member, now)


def inviter_may_give(session: Session, invitation: Invitation) -> bool:
    """Whoever made the invitation may still give (or nominate to) its role there; an operator's or
    an import's invitation (no inviter) stands."""
    if invitation.invited_by_id is None:
        return True
    place = place_of(session, Scope.of(invitation))
    return place is not None and power(invitation.invited_by, invitation.role, place) is not Power.NONE


def held_token(session: Session, member: Member, role: Role, scope: Scope) -> str | None:
    """The `removable` token of what `member` holds as `role` in `scope` (a grant, else a waiting
    nomination), for a button that removes it."""
    grant = session.scalar(select(RoleGrant.id).where(
        RoleGrant.member_id == member.id, RoleGrant.role == role, RoleGrant.scope_kind == scope.kind,
        RoleGrant.scope_code == scope.code))
    if grant is not None:
        return f"g{grant}"
    if role is Role.DELEGATE:
        nomination = session.scalar(select(SeatNomination.id).where(
            SeatNomination.member_id == member.id, SeatNomination.scope_kind == scope.kind,
            SeatNomination.scope_code == scope.code, SeatNomination.confirmed_at.is_(None)))
        if nomination is not None:
            return f"n{nomination}"
    return None


def accept(session: Session, invitation: Invitation, member: Member, now: datetime) -> Outcome:
    """Attach an invitation to the member it was for; tell them and whoever invited them."""
    scope = Scope.of(invitation)
    invitation.accepted_at, invitation.accepted_by_id = now, member.id
    inviter = invitation.invited_by
    audit.record(session, action=AuditAction.INVITE_ACCEPT, via=AuditVia.SYSTEM, now=now, actor=inviter,
                         subject=member, role=invitation.role, scope=scope,
                         details={"invitation": invitation.id, "confirmed": invitation.confirmed})
    key = f"invite:{invitation.id}"
    if invitation.role is Role.DELEGATE and not invitation.confirmed:
        already = session.scalar(select(SeatNomination.id).where(
            SeatNomination.member_id == member.id, SeatNomination.scope_kind == scope.kind,
            SeatNomination.scope_code == scope.code))
        if already is None:
            session.add(SeatNomination(member_id=member.id, scope_kind=scope.kind, scope_code=scope.code,
                                       nominated_by_id=invitation.invited_by_id, nominated_at=now))
        done, nominated = Done.NOMINATED, True
    else:
        _insert_grant(session, member, invitation.role, scope, granted_by=inviter, now=now)
        done, nominated = Done.GRANTED, False
    session.flush()
    session.expire(member, ["roles"])
    outbox = _tell_appointed(session, member, invitation.role, scope, now, f"{key}:member", nominated=nominated)
    if inviter is not None and inviter.active and inviter.erased_at is None and inviter.id != member.id:
        with use_locale(inviter.locale):
            message = invitation_accepted_text(member.full_name or member.display_name or "",
                                               invitation.role, scope_name(session, scope, inviter.locale),
                                               member_id=member.id,
                                               token=held_token(session, member, invitation.role, scope))
        outbox += [r.id for r in enqueue(session, [inviter.line_user_id], [message], now=now,
                                         kind="appoint.invitation_accepted", dedupe_key=f"{key}:inviter")]
    return Outcome(done, invitation.role, scope, member=member, invitation=invitation, outbox=outbox)


def on_registered(session: Session, member: Member, *, now: datetime, first_time: bool) -> list[int]:
    """Called when a member registers (or changes their details): invitations whose code they
    typed attach now; so, at their first registration only, invitations for their phone (never a
    secretariat or admin one: those need the code). Returns the outbox ids of the pushes it queued."""
    if not member.is_registered:
        return []
    conditions = [Invitation.claimed_by_id == member.id]
    if member.phone and first_time:
        conditions.append(and_(Invitation.phone == member.phone, Invitation.role.not_in(CODE_ONLY_ROLES)))
    invitations = session.scalars(select(Invitation).where(
        or_(*conditions), Invitation.accepted_at.is_(None), Invitation.withdrawn_at.is_(None),
        Invitation.expires_at > now).order_by(Invitation.id).with_for_update()).all()
    outbox: list[int] = []
    for invitation in invitations:
        if invitation.claimed_by_id not in (None, member.id):
            continue  # someone else typed its code first
        if invitation.invited_by_id == member.id or not inviter_may_give(session, invitation):
            continue  # nobody takes their own invitation; an inviter who lost the power gives nothing
        outbox += accept(session, invitation, member, now).outbox
    return outbox


# ---- telling people --------------------------------------------------------------------------------


def _tell_appointed(session: Session, member: Member, role: Role, scope: Scope, now: datetime, key: str, *,
                    nominated: bool = False) -> list[int]:
    """One push: what the person can now do, with the buttons to start."""
    if not member.active or member.erased_at is not None or not member.line_user_id:
        return []
    with use_locale(member.locale):
        message = appointed_card(role, scope_name(session, scope, member.locale), nominated=nominated)
    rows = enqueue(session, [member.line_user_id], [message], now=now, kind="appoint.appointed",
                   priority=Priority.HIGH, dedupe_key=key)
    return [r.id for r in rows]


# ---- finding people --------------------------------------------------------------------------------

_TITLES = ("นางสาว", "น.ส.", "นาย", "นาง", "คุณ", "mr.", "mrs.", "ms.", "miss", "mr", "mrs", "ms")


def _person_key(text: str) -> str:
    key = thai.normalize(text).casefold().strip()
    for title in _TITLES:
        if key.startswith(title) and len(key) > len(title):
            key = key[len(title):].strip()
            break
    return "".join(ch for ch in key if ch.isalnum() or ch in "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e47"
                   "\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d")


def name_score(query: str, *names: str | None) -> float:
    """How well a typed (part of a) name matches: 100+ for a part found as is, else fuzzy ≥ 80."""
    q = _person_key(query)
    if not q:
        return 0.0
    best = 0.0
    for name in names:
        if not name:
            continue
        key = _person_key(name)
        if not key:
            continue
        if q in key:
            best = max(best, 200.0 if key.startswith(q) else 150.0)
        elif len(q) >= 3:
            score = fuzz.partial_ratio(q, key)
            if score >= 80:
                best = max(best, float(score))
    return best


def find_people(session: Session, actor: Member | None, text: str, *, limit: int | None = 9,
                within: Iterable[Scope] | None = None) -> list[Member]:
    """Registered members inside the actor's reach whose phone is the one typed (any format, Thai
    digits too), or whose name or LINE name matches the typed part (Thai-aware, best first).
    `limit=None`: all of them (for a caller that filters further before taking the first few)."""
    query = select(Member).where(Member.registered_at.is_not(None), Member.erased_at.is_(None))
    scopes = list(within) if within is not None else reach(actor)
    if not scopes:
        return []
    if not any(s.is_national for s in scopes):
        query = query.where(or_(*[in_scope(Member.province_id, s) for s in scopes]))
    phone = thai.parse_phone(text)
    if phone:
        return list(session.scalars(query.where(Member.phone == phone).order_by(Member.id).limit(limit)))
    # Names only, not whole members: the national office's reach is every registered member, and
    # building an ORM object per row cost more than scoring it. The winners are loaded afterwards.
    names = session.execute(query.with_only_columns(Member.id, Member.full_name, Member.display_name))
    scored = [(name_score(text, full, display), full or "", member_id) for member_id, full, display in names]
    ranked = sorted((row for row in scored if row[0] > 0), key=lambda row: (-row[0], row[1], row[2]))
    ids = [member_id for _s, _name, member_id in ranked[:limit]]
    if not ids:
        return []
    found = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
