"""bot.scopes: every kind of scope against places inside and outside it, in Python and in SQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import scopes
from bot.models import Province, ProvinceGroup, Region, RoleGrant, ScopeKind
from bot.scopes import Place, Scope, ScopeError

CHIANG_MAI = Place("north", "lanna_west", "50")  # province 50 in group lanna_west in region north
BANGKOK = Place("bangkok_metro", "bangkok", "10")
LANNA_WEST = Place("north", "lanna_west", None)  # a group's place
NORTH = Place("north", None, None)  # a region's place
EVERYWHERE = Place(None, None, None)  # the national scope's place

NATIONAL = Scope.NATIONAL
REGION = Scope(ScopeKind.REGION, "north")
GROUP = Scope(ScopeKind.GROUP, "lanna_west")
PROVINCE = Scope(ScopeKind.PROVINCE, "50")


# ---- contains, pure ---------------------------------------------------------------------------

@pytest.mark.parametrize(("outer", "inner", "expected"), [
    # national contains everything, itself included
    (NATIONAL, CHIANG_MAI, True), (NATIONAL, BANGKOK, True), (NATIONAL, NORTH, True), (NATIONAL, EVERYWHERE, True),
    # a region: its provinces, its groups and itself; not another region's, not the nation
    (REGION, CHIANG_MAI, True), (REGION, LANNA_WEST, True), (REGION, NORTH, True),
    (REGION, BANGKOK, False), (REGION, Place("bangkok_metro", None, None), False), (REGION, EVERYWHERE, False),
    # a group: its provinces and itself; not its region, not another group of the same region
    (GROUP, CHIANG_MAI, True), (GROUP, LANNA_WEST, True),
    (GROUP, Place("north", "lanna_east", "57"), False), (GROUP, NORTH, False), (GROUP, BANGKOK, False),
    (GROUP, EVERYWHERE, False),
    # a province: only itself; not a neighbour in its group, not its group
    (PROVINCE, CHIANG_MAI, True),
    (PROVINCE, Place("north", "lanna_west", "58"), False), (PROVINCE, LANNA_WEST, False), (PROVINCE, BANGKOK, False),
    (PROVINCE, EVERYWHERE, False),
])
def test_contains_every_kind_inside_and_outside(outer, inner, expected):
    assert scopes.contains(outer, inner) is expected


def test_scope_parses_and_prints_back():
    for text in ("national", "region:north", "group:lanna_west", "province:50"):
        assert str(Scope.parse(text)) == text
    assert Scope.parse("region:north") == REGION
    assert Scope.parse("national") is NATIONAL and NATIONAL.is_national and not REGION.is_national
    assert Scope("group", "x") == Scope(ScopeKind.GROUP, "x")  # a plain string kind is the enum member


@pytest.mark.parametrize(("text", "message"), [
    ("planet:earth", "unknown scope"), ("", "unknown scope"), ("national:th", "takes no code"),
    ("region:", "no region with code ''"), ("province", "no province with code ''"),
])
def test_scope_parse_refuses(text, message):
    with pytest.raises(ScopeError, match=message):
        Scope.parse(text)


def test_levels_sort_widest_first():
    assert sorted([PROVINCE, NATIONAL, GROUP, REGION], key=lambda s: s.level) == [NATIONAL, REGION, GROUP, PROVINCE]


def test_scope_of_a_row():
    grant = RoleGrant(scope_kind=ScopeKind.GROUP, scope_code="lanna_west")
    assert Scope.of(grant) == GROUP


# ---- against the seeded geography ---------------------------------------------------------------

def province(db, code: str) -> Province:
    return db.scalar(select(Province).where(Province.code == code))


def test_place_of_each_kind(db):
    assert scopes.place_of(db, NATIONAL) == EVERYWHERE
    assert scopes.place_of(db, REGION) == NORTH
    assert scopes.place_of(db, GROUP) == LANNA_WEST
    assert scopes.place_of(db, PROVINCE) == CHIANG_MAI
    for unknown in (Scope(ScopeKind.REGION, "atlantis"), Scope(ScopeKind.GROUP, "atlantis"),
                    Scope(ScopeKind.PROVINCE, "99")):
        assert scopes.place_of(db, unknown) is None
    assert Place.of_province(province(db, "50")) == CHIANG_MAI


def test_contains_a_province_row(db):
    chiang_mai, bangkok = province(db, "50"), province(db, "10")
    for outer in (NATIONAL, REGION, GROUP, PROVINCE):
        assert scopes.contains(outer, chiang_mai)
    assert scopes.contains(NATIONAL, bangkok)
    for outer in (REGION, GROUP, PROVINCE):
        assert not scopes.contains(outer, bangkok)


@pytest.mark.parametrize("scope", [NATIONAL, REGION, GROUP, PROVINCE, Scope(ScopeKind.REGION, "bangkok_metro"),
                                   Scope(ScopeKind.GROUP, "bangkok"), Scope(ScopeKind.PROVINCE, "99")])
def test_sql_filter_agrees_with_python(db, scope):
    """in_scope over a province-id column selects exactly the provinces `contains` says are inside."""
    provinces = db.scalars(select(Province)).all()
    in_python = {p.id for p in provinces if scopes.contains(scope, p)}
    in_sql = set(db.scalars(select(Province.id).where(scopes.in_scope(Province.id, scope))))
    assert in_sql == in_python
    if scope.is_national:
        assert len(in_sql) == len(provinces) == 77
    elif scope.kind is ScopeKind.PROVINCE:
        assert len(in_sql) == (0 if scope.code == "99" else 1)
    else:
        assert 1 <= len(in_sql) < len(provinces)  # the bangkok group is Bangkok alone


def test_resolve_checks_the_code_exists(db):
    assert scopes.resolve(db, "group:lanna_west") == GROUP
    assert scopes.resolve(db, "national") == NATIONAL
    with pytest.raises(ScopeError, match="no province with code '99'"):
        scopes.resolve(db, "province:99")
    with pytest.raises(ScopeError, match="unknown scope"):
        scopes.resolve(db, "planet:earth")
    assert isinstance(scopes.row_of(db, REGION), Region) and scopes.row_of(db, NATIONAL) is None


def test_children_are_one_level_inside(db):
    regions = scopes.children(db, NATIONAL)
    assert [s.kind for s, _row in regions] == [ScopeKind.REGION] * 8
    groups = scopes.children(db, REGION)
    assert {s.code for s, _row in groups} == {"lanna_west", "lanna_east", "north_lower_1", "north_lower_2"}
    assert all(isinstance(row, ProvinceGroup) for _s, row in groups)
    provinces = scopes.children(db, GROUP)
    assert PROVINCE in [s for s, _row in provinces]
    assert [row.name_th for _s, row in provinces] == sorted(row.name_th for _s, row in provinces)
    assert all(scopes.contains(GROUP, row) for _s, row in provinces)
    assert scopes.children(db, PROVINCE) == []


def test_region_ids_for_every_scope_below_national(db):
    north = db.scalar(select(Region.id).where(Region.code == "north"))
    ids = scopes.region_ids(db)
    assert ids[REGION] == ids[GROUP] == ids[PROVINCE] == north
    assert NATIONAL not in ids
    assert len(ids) == 8 + 22 + 77
