"""The same appointment twice, at once or one after the other: one grant, one audit entry, no
error (role_grants' unique key settles it in one INSERT … ON CONFLICT DO NOTHING)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot import appointments
from bot.models import AuditAction, AuditEntry, AuditVia, Member, Role, RoleGrant
from bot.roles import grant
from bot.scopes import Scope

from .helpers import registered

CHIANG_MAI = Scope.parse("province:50")


def counts(db, member):
    db.rollback()
    grants = db.scalar(select(func.count(RoleGrant.id)).where(RoleGrant.member_id == member.id,
                                                               RoleGrant.role == Role.COORDINATOR))
    entries = db.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == AuditAction.GRANT))
    return grants, entries


def test_appointing_the_same_role_twice_is_one_grant_and_one_audit_entry(db, frozen_now):
    secretariat = registered(db, "U" + "5" * 32, "เลขา กลาง", "0812345670")
    grant(db, secretariat, Role.SECRETARIAT, "national")
    person = registered(db, "U" + "a" * 32, "บุญมี ศรีสุข", "0891110001")
    db.commit()
    first = appointments.appoint(db, secretariat, role=Role.COORDINATOR, scope=CHIANG_MAI, via=AuditVia.CHAT,
                                 now=frozen_now, member=person)
    again = appointments.appoint(db, secretariat, role=Role.COORDINATOR, scope=CHIANG_MAI, via=AuditVia.CONSOLE,
                                 now=frozen_now, member=person)
    db.commit()
    assert (first.done, again.done) == (appointments.Done.GRANTED, appointments.Done.ALREADY)
    assert first.outbox and not again.outbox
    assert counts(db, person) == (1, 1)
    assert [(g.role, g.scope) for g in person.roles] == [(Role.COORDINATOR, "province:50")]
    # The operator's grant of the same role changes nothing either.
    assert not appointments.operator_grant(db, person, Role.COORDINATOR, CHIANG_MAI, via=AuditVia.CLI,
                                           now=frozen_now)
    assert counts(db, person) == (1, 1)


def test_two_processes_granting_at_once_make_one_grant_without_an_error(services, db, frozen_now):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serializes writers by itself")
    secretariat = registered(db, "U" + "5" * 32, "เลขา กลาง", "0812345670")
    grant(db, secretariat, Role.SECRETARIAT, "national")
    person = registered(db, "U" + "a" * 32, "บุญมี ศรีสุข", "0891110001")
    db.commit()

    def appoint(session):
        return appointments.appoint(session, session.get(Member, secretariat.id), role=Role.COORDINATOR,
                                    scope=CHIANG_MAI, via=AuditVia.CHAT, now=frozen_now,
                                    member=session.get(Member, person.id))

    first = services.session_factory()
    first.begin()
    assert appoint(first).done is appointments.Done.GRANTED
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with services.session_factory() as session, session.begin():
                outcome["done"] = appoint(session).done
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong
            outcome["error"] = repr(error)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second insert waits for the first transaction"
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert outcome == {"done": appointments.Done.ALREADY}
    assert counts(db, person) == (1, 1)
