"""Who may do what, where. Checked on every action, never inferred from a button."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Member, Province, ProvinceGroup, Region, Role, RoleGrant, ScopeKind


class ScopeError(ValueError):
    pass


def parse_scope(session: Session, scope: str) -> tuple[ScopeKind, str]:
    """'national' | 'region:<code>' | 'group:<code>' | 'province:<code>' → (kind, code), checked to exist."""
    kind_name, _, code = scope.partition(":")
    try:
        kind = ScopeKind(kind_name)
    except ValueError:
        raise ScopeError(f"unknown scope {scope!r}: use national, region:CODE, group:CODE or province:CODE") from None
    if kind is ScopeKind.NATIONAL:
        if code:
            raise ScopeError("the national scope takes no code")
        return kind, ""
    model = {ScopeKind.REGION: Region, ScopeKind.GROUP: ProvinceGroup, ScopeKind.PROVINCE: Province}[kind]
    if not code or session.scalar(select(model.id).where(model.code == code)) is None:
        raise ScopeError(f"no {kind.value} with code {code!r}")
    return kind, code


def covers(grant: RoleGrant, province: Province) -> bool:
    """Does a grant's scope include this province?"""
    match grant.scope_kind:
        case ScopeKind.NATIONAL:
            return True
        case ScopeKind.REGION:
            return province.group.region.code == grant.scope_code
        case ScopeKind.GROUP:
            return province.group.code == grant.scope_code
        case ScopeKind.PROVINCE:
            return province.code == grant.scope_code
    return False


def has_role(member: Member | None, roles: tuple[Role, ...] | Role, province: Province | None = None) -> bool:
    """True if the member holds one of the roles (admin holds all) covering the province (if given)."""
    if member is None or not member.active or member.erased_at is not None:
        return False
    wanted = (roles,) if isinstance(roles, Role) else roles
    for grant in member.roles:
        if grant.role in wanted or grant.role is Role.ADMIN:
            if province is None or covers(grant, province):
                return True
    return False


def members_covering(session: Session, roles: tuple[Role, ...], province: Province) -> list[Member]:
    """Active members whose grant of one of these roles covers the province (for notifications)."""
    grants = session.scalars(
        select(RoleGrant).join(RoleGrant.member)
        .where(RoleGrant.role.in_(roles), Member.active.is_(True), Member.erased_at.is_(None))
    ).all()
    seen: dict[int, Member] = {}
    for grant in grants:
        if covers(grant, province):
            seen.setdefault(grant.member_id, grant.member)
    return list(seen.values())


def grant(session: Session, member: Member, role: Role, scope: str, granted_by: Member | None = None) -> RoleGrant:
    kind, code = parse_scope(session, scope)
    existing = session.scalar(select(RoleGrant).where(
        RoleGrant.member_id == member.id, RoleGrant.role == role,
        RoleGrant.scope_kind == kind, RoleGrant.scope_code == code))
    if existing is not None:
        return existing
    row = RoleGrant(member=member, role=role, scope_kind=kind, scope_code=code,
                    granted_by_id=granted_by.id if granted_by else None)
    session.add(row)
    return row


def revoke(session: Session, member: Member, role: Role, scope: str | None) -> int:
    """Remove a role (in one scope, or everywhere when scope is None); returns how many grants went."""
    query = select(RoleGrant).where(RoleGrant.member_id == member.id, RoleGrant.role == role)
    if scope is not None:
        kind, code = parse_scope(session, scope)
        query = query.where(RoleGrant.scope_kind == kind, RoleGrant.scope_code == code)
    rows = session.scalars(query).all()
    for row in rows:
        session.delete(row)
    return len(rows)
