"""Two appointers and one last seat, on PostgreSQL: the area's row lock makes the second wait and
then refuse, instead of both seating someone (SQLite serializes writers by itself)."""
from __future__ import annotations

import threading

import pytest

from bot import appointments
from bot.models import AuditVia, Member, Role
from bot.roles import grant
from bot.scopes import Scope

from .helpers import registered


@pytest.fixture
def postgres_only(services):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite is the single-process embedded default")


def test_the_last_seat_goes_once(postgres_only, services, db, frozen_now):
    seat = Scope.parse("province:50")
    secretariat = registered(db, "U" + "5" * 32, "เลขา กลาง", "0812345670")
    grant(db, secretariat, Role.SECRETARIAT, "national")
    people = [registered(db, "U" + "a" * 31 + str(i), f"คนที่ {i} ขบวน", f"089111000{i}") for i in range(4)]
    db.commit()
    for member in people[:2]:
        appointments.appoint(db, secretariat, role=Role.DELEGATE, scope=seat, via=AuditVia.CHAT, now=frozen_now,
                             member=member)
    db.commit()

    first = services.session_factory()
    first.begin()
    appointments.appoint(first, first.get(Member, secretariat.id), role=Role.DELEGATE, scope=seat,
                         via=AuditVia.CHAT, now=frozen_now, member=first.get(Member, people[2].id))
    outcome: dict[str, object] = {}

    def second() -> None:
        with services.session_factory() as session, session.begin():
            try:
                appointments.appoint(session, session.get(Member, secretariat.id), role=Role.DELEGATE, scope=seat,
                                     via=AuditVia.CHAT, now=frozen_now, member=session.get(Member, people[3].id))
                outcome["done"] = True
            except appointments.Refused as refused:
                outcome["refused"] = refused.why

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second appointer must wait for the area's lock"
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert outcome == {"refused": appointments.Why.SEATS_FULL}
    db.rollback()
    assert len(appointments.seat_holders(db, frozen_now, seat)[seat]) == 3
