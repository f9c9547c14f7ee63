"""Scopes: where a role, a bound group or a meeting notice applies. The one module that knows how they nest.

The movement's places nest province → province group → region → national (bot/models/geography.py).
A scope is one of those levels and its code ("" for national). Whether one scope contains a place is
answered here, in Python (`contains`) and in SQL (`in_scope`, for a column of province ids); every
role check, group binding, meeting audience and digest asks this module instead of matching kinds.

Domain level: depends on the models only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .models import Province, ProvinceGroup, Region, ScopeKind

# The table behind each kind below national.
MODELS: dict[ScopeKind, type[Region] | type[ProvinceGroup] | type[Province]] = {
    ScopeKind.REGION: Region, ScopeKind.GROUP: ProvinceGroup, ScopeKind.PROVINCE: Province}


class ScopeError(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    """A scope: its kind and code ("" for national). `str()` gives 'national' or 'kind:code'."""

    kind: ScopeKind
    code: str = ""

    NATIONAL: ClassVar[Scope]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ScopeKind(self.kind))  # a plain "region" string is accepted too

    @classmethod
    def of(cls, row: Any) -> Scope:
        """The scope of anything with scope_kind/scope_code columns (a role grant, a bound group, a notice)."""
        return cls(row.scope_kind, row.scope_code)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """'national' | 'region:<code>' | 'group:<code>' | 'province:<code>' → a Scope (not checked to exist)."""
        kind_name, _, code = text.partition(":")
        try:
            kind = ScopeKind(kind_name)
        except ValueError:
            raise ScopeError(f"unknown scope {text!r}: use national, region:CODE, group:CODE or province:CODE") from None
        if kind is ScopeKind.NATIONAL:
            if code:
                raise ScopeError("the national scope takes no code")
            return cls.NATIONAL
        if not code:
            raise ScopeError(f"no {kind.value} with code {code!r}")
        return cls(kind, code)

    @property
    def is_national(self) -> bool:
        return self.kind is ScopeKind.NATIONAL

    @property
    def level(self) -> int:
        """0 for national, 1 region, 2 province group, 3 province: widest first when sorted."""
        return list(ScopeKind).index(self.kind)

    def __str__(self) -> str:
        return self.kind.value if self.is_national else f"{self.kind.value}:{self.code}"


Scope.NATIONAL = Scope(ScopeKind.NATIONAL, "")


@dataclass(frozen=True)
class Place:
    """Where a province (or a scope) sits: codes of its region, group and province (None above it)."""

    region: str | None
    group: str | None
    province: str | None

    @classmethod
    def of_province(cls, province: Province) -> Place:
        return cls(province.group.region.code, province.group.code, province.code)


def resolve(session: Session, text: str) -> Scope:
    """Parse a scope and check that its region, group or province exists (ScopeError if not)."""
    scope = Scope.parse(text)
    if not scope.is_national and row_of(session, scope) is None:
        raise ScopeError(f"no {scope.kind.value} with code {scope.code!r}")
    return scope


def row_of(session: Session, scope: Scope) -> Region | ProvinceGroup | Province | None:
    """The region, group or province row a scope names; None for national or an unknown code."""
    if scope.is_national:
        return None
    model = MODELS[scope.kind]
    return session.scalar(select(model).where(model.code == scope.code))


def place_of(session: Session, scope: Scope) -> Place | None:
    """The ancestry of a scope, or None if its code does not exist."""
    if scope.kind is ScopeKind.NATIONAL:
        return Place(None, None, None)
    if scope.kind is ScopeKind.REGION:
        found = session.scalar(select(Region.code).where(Region.code == scope.code))
        return Place(found, None, None) if found else None
    if scope.kind is ScopeKind.GROUP:
        row = session.execute(select(Region.code, ProvinceGroup.code).join(ProvinceGroup.region)
                              .where(ProvinceGroup.code == scope.code)).first()
        return Place(row[0], row[1], None) if row else None
    row = session.execute(select(Region.code, ProvinceGroup.code, Province.code).join(Province.group)
                          .join(ProvinceGroup.region).where(Province.code == scope.code)).first()
    return Place(row[0], row[1], row[2]) if row else None


def contains(outer: Scope, inner: Place | Province) -> bool:
    """Is a place (a province, or a scope's place from `place_of`) inside the outer scope?"""
    place = Place.of_province(inner) if isinstance(inner, Province) else inner
    match outer.kind:
        case ScopeKind.NATIONAL:
            return True
        case ScopeKind.REGION:
            return place.region == outer.code
        case ScopeKind.GROUP:
            return place.group == outer.code
        case ScopeKind.PROVINCE:
            return place.province == outer.code
    return False


def province_ids(scope: Scope) -> Select[tuple[int]] | None:
    """The ids of the scope's provinces as a subquery; None for national (no filter needed)."""
    query = select(Province.id)
    match scope.kind:
        case ScopeKind.NATIONAL:
            return None
        case ScopeKind.REGION:
            query = query.join(Province.group).join(ProvinceGroup.region).where(Region.code == scope.code)
        case ScopeKind.GROUP:
            query = query.join(Province.group).where(ProvinceGroup.code == scope.code)
        case ScopeKind.PROVINCE:
            query = query.where(Province.code == scope.code)
    return query


def in_scope(column: Any, scope: Scope) -> Any:
    """A WHERE clause: the province-id column is one of the scope's provinces (always true for national)."""
    provinces = province_ids(scope)
    return True if provinces is None else column.in_(provinces)


def children(session: Session, scope: Scope) -> list[tuple[Scope, Region | ProvinceGroup | Province]]:
    """The scopes one level inside a scope, with their rows: national → regions → groups → provinces."""
    match scope.kind:
        case ScopeKind.NATIONAL:
            return [(Scope(ScopeKind.REGION, r.code), r)
                    for r in session.scalars(select(Region).order_by(Region.id))]
        case ScopeKind.REGION:
            return [(Scope(ScopeKind.GROUP, g.code), g)
                    for g in session.scalars(select(ProvinceGroup).join(ProvinceGroup.region)
                                             .where(Region.code == scope.code).order_by(ProvinceGroup.id))]
        case ScopeKind.GROUP:
            return [(Scope(ScopeKind.PROVINCE, p.code), p)
                    for p in session.scalars(select(Province).join(Province.group)
                                             .where(ProvinceGroup.code == scope.code).order_by(Province.name_th))]
    return []


def region_ids(session: Session) -> dict[Scope, int]:
    """Scope → id of the region containing it, for every region, group and province (national has none)."""
    out: dict[Scope, int] = {}
    for code, region_id in session.execute(select(Region.code, Region.id)):
        out[Scope(ScopeKind.REGION, code)] = region_id
    for code, region_id in session.execute(select(ProvinceGroup.code, ProvinceGroup.region_id)):
        out[Scope(ScopeKind.GROUP, code)] = region_id
    for code, region_id in session.execute(
            select(Province.code, ProvinceGroup.region_id).join(ProvinceGroup, Province.group_id == ProvinceGroup.id)):
        out[Scope(ScopeKind.PROVINCE, code)] = region_id
    return out
