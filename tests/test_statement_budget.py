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


# A delegate's first vote: SELECT item FOR SHARE, SELECT ballot, INSERT vote ON CONFLICT DO NOTHING,
# UPDATE ballot (voted_at). A repeated tap: item, ballot, the vote FOR UPDATE.
FIRST_VOTE_BUDGET = 4
REPEAT_VOTE_BUDGET = 3


def test_casting_a_vote_stays_within_its_statement_budget(services, db):
    from datetime import timedelta

    from bot import assembly
    from bot.models import AgendaItem, AssemblySession, Member, Role, utcnow
    from bot.roles import grant

    now = utcnow()
    member = Member(line_user_id="U" + "b1" * 16, locale="th", active=True)
    db.add(member)
    db.flush()
    grant(db, member, Role.DELEGATE, "province:50")
    item = AgendaItem(session=AssemblySession(name="สมัชชาทดสอบ", held_on=now.date(), place="กรุงเทพฯ"),
                      title="รับรองแผนงาน", description="", secret=True, allow_change=False,
                      opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(days=1),
                      abstain_index=assembly.DEFAULT_ABSTAIN, token=assembly.new_token())
    db.add(item)
    db.commit()
    assembly.open_item(db, item, now, services.settings.timezone)
    db.commit()

    for option, expected, budget in ((0, assembly.Cast.RECORDED, FIRST_VOTE_BUDGET),
                                     (0, assembly.Cast.SAME, REPEAT_VOTE_BUDGET)):
        with services.session_factory() as session, session.begin():
            voter = session.get(Member, member.id)
            with statements_sent(services.engine) as statements:
                outcome = assembly.cast_vote(session, item.token, option, voter, now)
                session.flush()
        assert outcome.status is expected
        listing = "\n".join(statements)
        assert len(statements) <= budget, listing
        assert not any(s.upper().startswith("SAVEPOINT") for s in statements), listing
    db.rollback()
    assert assembly.tally(db, db.get(AgendaItem, item.id)).counts[0] == 1
