"""The permission table, pair by pair: every actor role × the level of its scope × every target
role × a place inside or outside the actor's scope. The expectations are written out here, not
derived from bot/appointments.py, so a change to the table must be made in both (and in the docs,
which the last test compares with the code)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import appointments
from bot.appointments import PERMISSIONS, Power, Standing
from bot.models import Member, Role, RoleGrant, ScopeKind
from bot.scopes import Place

# Chiang Mai (province 50) lies in the Western Lanna group, in the north; Khon Kaen (40) does not.
ACTOR_SCOPES = {
    ScopeKind.NATIONAL: "",
    ScopeKind.REGION: "north",
    ScopeKind.GROUP: "lanna_west",
    ScopeKind.PROVINCE: "50",
}
INSIDE = Place("north", "lanna_west", "50")
OUTSIDE = Place("isan_upper", "isan_central", "40")
TARGETS = (Role.LEADER, Role.DELEGATE, Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)  # L D C S A
POWER = {"G": Power.GRANT, "N": Power.NOMINATE, "-": Power.NONE}

# (actor role, level of the actor's scope): (inside, outside), one letter per target in TARGETS.
EXPECTED = {
    (Role.ADMIN, ScopeKind.NATIONAL): ("GGGGG", "GGGGG"),
    (Role.ADMIN, ScopeKind.REGION): ("GNG--", "-----"),
    (Role.ADMIN, ScopeKind.GROUP): ("GNG--", "-----"),
    (Role.ADMIN, ScopeKind.PROVINCE): ("GNG--", "-----"),
    (Role.SECRETARIAT, ScopeKind.NATIONAL): ("GGGGG", "GGGGG"),
    (Role.SECRETARIAT, ScopeKind.REGION): ("GNG--", "-----"),
    (Role.SECRETARIAT, ScopeKind.GROUP): ("GNG--", "-----"),
    (Role.SECRETARIAT, ScopeKind.PROVINCE): ("GNG--", "-----"),
    (Role.COORDINATOR, ScopeKind.NATIONAL): ("GNG--", "GNG--"),
    (Role.COORDINATOR, ScopeKind.REGION): ("GNG--", "-----"),
    (Role.COORDINATOR, ScopeKind.GROUP): ("GNG--", "-----"),
    (Role.COORDINATOR, ScopeKind.PROVINCE): ("GNG--", "-----"),
    (Role.DELEGATE, ScopeKind.NATIONAL): ("-----", "-----"),
    (Role.DELEGATE, ScopeKind.REGION): ("-----", "-----"),
    (Role.DELEGATE, ScopeKind.GROUP): ("-----", "-----"),
    (Role.DELEGATE, ScopeKind.PROVINCE): ("-----", "-----"),
    (Role.LEADER, ScopeKind.NATIONAL): ("-----", "-----"),
    (Role.LEADER, ScopeKind.REGION): ("-----", "-----"),
    (Role.LEADER, ScopeKind.GROUP): ("-----", "-----"),
    (Role.LEADER, ScopeKind.PROVINCE): ("-----", "-----"),
}

CASES = [pytest.param(actor, level, target, side, id=f"{actor.value}@{level.value}->{target.value}-{side}")
         for (actor, level) in EXPECTED for target in TARGETS for side in ("inside", "outside")]


def actor_with(role: Role, level: ScopeKind) -> Member:
    member = Member(line_user_id="U" + "f" * 32, active=True)
    member.roles.append(RoleGrant(role=role, scope_kind=level, scope_code=ACTOR_SCOPES[level]))
    return member


def test_the_matrix_covers_every_pair():
    assert set(EXPECTED) == {(r, k) for r in Role for k in ScopeKind}
    assert len(CASES) == len(Role) * len(ScopeKind) * len(Role) * 2 == 200


@pytest.mark.parametrize("actor, level, target, side", CASES)
def test_power(actor, level, target, side):
    inside, outside = EXPECTED[(actor, level)]
    letters = inside if side == "inside" else outside
    expected = POWER[letters[TARGETS.index(target)]]
    place = INSIDE if side == "inside" else OUTSIDE
    assert appointments.power(actor_with(actor, level), target, place) is expected


def test_an_operator_at_the_server_may_do_anything_and_a_departed_member_nothing():
    for target in TARGETS:
        assert appointments.power(None, target, OUTSIDE) is Power.GRANT
    gone = actor_with(Role.SECRETARIAT, ScopeKind.NATIONAL)
    gone.active = False
    assert all(appointments.power(gone, t, INSIDE) is Power.NONE for t in TARGETS)


def test_the_strongest_grant_wins():
    member = actor_with(Role.COORDINATOR, ScopeKind.PROVINCE)
    member.roles.append(RoleGrant(role=Role.SECRETARIAT, scope_kind=ScopeKind.NATIONAL, scope_code=""))
    assert appointments.power(member, Role.DELEGATE, INSIDE) is Power.GRANT
    assert appointments.roles_offered(member) == list(appointments.ROLE_ORDER)
    coordinator = actor_with(Role.COORDINATOR, ScopeKind.PROVINCE)
    assert appointments.roles_offered(coordinator) == [Role.LEADER, Role.DELEGATE, Role.COORDINATOR]


def render_table() -> str:
    """The table as docs/APPOINTMENTS.md shows it (generated from the code here, compared there)."""
    words = {Power.GRANT: "grant", Power.NOMINATE: "nominate", Power.NONE: "–"}
    names = {Standing.NATIONAL_OFFICE: "national office", Standing.COORDINATOR: "coordinator",
             Standing.NONE: "leader, delegate"}
    lines = ["| standing | " + " | ".join(r.value for r in TARGETS) + " |",
             "|---|" + "---|" * len(TARGETS)]
    for standing, row in PERMISSIONS.items():
        lines.append(f"| {names[standing]} | " + " | ".join(words[row[t]] for t in TARGETS) + " |")
    return "\n".join(lines)


def test_the_docs_show_the_same_table():
    doc = (Path(__file__).parent.parent / "docs" / "APPOINTMENTS.md").read_text(encoding="utf-8")
    assert render_table() in doc, "docs/APPOINTMENTS.md's table differs from bot/appointments.PERMISSIONS:\n" \
        + render_table()
