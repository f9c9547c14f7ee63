"""Who may do what, where. Checked on every action, never inferred from a button."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Member, Province, Role, RoleGrant
from .scopes import Scope, ScopeError, contains, resolve

__all__ = ["Scope", "ScopeError", "grant", "has_role", "members_covering", "resolve", "revoke"]


def has_role(member: Member | None, roles: tuple[Role, ...] | Role, province: Province | None = None) -> bool:
    """True if the member holds one of the roles (admin holds all) covering the province (if given)."""
    if member is None or not member.active or member.erased_at is not None:
        return False
    wanted = (roles,) if isinstance(roles, Role) else roles
    for grant in member.roles:
        if grant.role in wanted or grant.role is Role.ADMIN:
            if province is None or contains(Scope.of(grant), province):
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
        if contains(Scope.of(grant), province):
            seen.setdefault(grant.member_id, grant.member)
    return list(seen.values())


def grant(session: Session, member: Member, role: Role, scope: str, granted_by: Member | None = None) -> RoleGrant:
    where = resolve(session, scope)
    existing = session.scalar(select(RoleGrant).where(
        RoleGrant.member_id == member.id, RoleGrant.role == role,
        RoleGrant.scope_kind == where.kind, RoleGrant.scope_code == where.code))
    if existing is not None:
        return existing
    row = RoleGrant(member=member, role=role, scope_kind=where.kind, scope_code=where.code,
                    granted_by_id=granted_by.id if granted_by else None)
    session.add(row)
    return row


def revoke(session: Session, member: Member, role: Role, scope: str | None) -> int:
    """Remove a role (in one scope, or everywhere when scope is None); returns how many grants went."""
    query = select(RoleGrant).where(RoleGrant.member_id == member.id, RoleGrant.role == role)
    if scope is not None:
        where = resolve(session, scope)
        query = query.where(RoleGrant.scope_kind == where.kind, RoleGrant.scope_code == where.code)
    rows = session.scalars(query).all()
    for row in rows:
        session.delete(row)
    return len(rows)
