"""SQL statements per webhook event: a budget, so a change that adds round trips is noticed.

Counted, never timed: the count is the same on any machine. Every statement is a round trip to
the database, paid inside the event's transaction while the member's row is locked.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from .helpers import register

# A registered member mid-flow answers a step: insert processed_events (ON CONFLICT DO NOTHING),
# lock the member, read the conversation state, update it. (Plus BEGIN and COMMIT.)
TURN_BUDGET = 4


@contextmanager
def statements_sent(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        # SQLite's BEGIN goes through a cursor here (bot/db.py issues it); PostgreSQL's driver
        # sends it implicitly. Either way it is not the event's own work, so it is not counted.
        if statement.strip().upper() != "BEGIN":
            seen.append(" ".join(statement.split())[:120])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_turn_of_a_flow_stays_within_its_statement_budget(chat, services, emulator):
    leader = register(chat)
    leader.tap("ลงทะเบียนองค์กร")

    with statements_sent(services.engine) as statements:
        leader.say("กลุ่มออมทรัพย์บ้านแม่แฝก")
    assert "กลุ่มออมทรัพย์" in leader.chips()  # the answer was taken: the org-type step is shown

    listing = "\n".join(statements)
    assert statements, "the listener saw nothing: is it on the app's engine?"
    assert len(statements) <= TURN_BUDGET, listing
    assert not any(s.upper().startswith("SAVEPOINT") for s in statements), listing
