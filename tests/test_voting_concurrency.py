"""Many delegates voting at the same moment, through the signed webhook, on PostgreSQL.

LINE delivers events concurrently and redelivers some; people double-tap. The count must still
equal the ground truth exactly, and a close racing the last votes must count exactly the votes
that were acknowledged as recorded.

(PostgreSQL lets new FOR SHARE lockers join while a FOR UPDATE waits, so an early close waits
for a gap in a continuous stream of votes; every vote it waits for is counted, which is what
the second test checks. A close at closes_at is not delayed: late taps are refused before they
take any lock.)
"""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from bot import assembly
from bot.emulator import events as ev
from bot.models import AgendaItem, AssemblySession, Ballot, Member, ProcessedEvent, Province, ProvinceGroup, Region
from bot.models import Role, RoleGrant, ScopeKind, Vote, utcnow

from .chat import texts_in
from .conftest import SECRET

DELEGATE_COUNT = 312  # the assembly's seats when the movement had 76 provinces, 22 groups, 8 regions
THREADS = 24  # below the engine's pool (10 + 20 overflow), so requests contend on rows, not connections

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(services):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("concurrency is PostgreSQL's job (row locks, concurrent unique checks); SQLite takes "
                    "one writer at a time, so concurrent requests there prove nothing. "
                    "Set TEST_DATABASE_URL to run it.")


@pytest.fixture
def no_quota(emulator, monkeypatch):
    monkeypatch.setattr(emulator, "quota_limit", None)


def seat_scopes(db) -> list[tuple[ScopeKind, str]]:
    """The composition's seats in order: 3 per province, 2 per group, 5 per region."""
    seats: list[tuple[ScopeKind, str]] = []
    for code in db.scalars(select(Province.code).order_by(Province.code)):
        seats += [(ScopeKind.PROVINCE, code)] * 3
    for code in db.scalars(select(ProvinceGroup.code).order_by(ProvinceGroup.code)):
        seats += [(ScopeKind.GROUP, code)] * 2
    for code in db.scalars(select(Region.code).order_by(Region.code)):
        seats += [(ScopeKind.REGION, code)] * 5
    return seats


def seed_delegates(db, count: int, prefix: str = "d") -> list[str]:
    """Members with a delegate seat each, inserted in bulk (registration by chat is tested elsewhere)."""
    seats = seat_scopes(db)
    user_ids = [("U" + f"{prefix}{n:031x}")[:33] for n in range(count)]
    db.execute(insert(Member), [{"line_user_id": uid, "full_name": f"ผู้แทน {n}", "locale": "th", "active": True}
                                for n, uid in enumerate(user_ids)])
    ids = dict(db.execute(select(Member.line_user_id, Member.id).where(Member.line_user_id.in_(user_ids))).all())
    db.execute(insert(RoleGrant), [
        {"member_id": ids[uid], "role": Role.DELEGATE, "scope_kind": seats[n % len(seats)][0],
         "scope_code": seats[n % len(seats)][1]} for n, uid in enumerate(user_ids)])
    db.commit()
    return user_ids


def make_open_item(db, services, **fields) -> AgendaItem:
    now = utcnow()
    session = AssemblySession(name="สมัชชาทดสอบพร้อมกัน", held_on=now.date(), place="กรุงเทพฯ")
    item = AgendaItem(session=session, title="วาระทดสอบพร้อมกัน", token=assembly.new_token(), secret=True,
                      opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(hours=1),
                      abstain_index=assembly.DEFAULT_ABSTAIN, **fields)
    db.add(item)
    db.commit()
    assembly.open_item(db, item, now, services.settings.timezone)
    db.commit()
    return item


def post(app, event: dict) -> int:
    client = app.test_client()  # one per request: the test client is not shared across threads
    body = ev.encode_body(ev.callback_body([event]))
    response = client.post("/callback", data=body, headers={"Content-Type": "application/json",
                                                            "X-Line-Signature": ev.sign(body, SECRET)})
    response.close()  # as a WSGI server does after sending: runs the after-response pushes
    return response.status_code


def replies_to(emulator, user_id: str) -> list[str]:
    return ["\n".join(texts_in(m)) for m in emulator.messages_for(user_id)]


def test_312_delegates_vote_at_once_with_redeliveries_and_double_taps(app, db, services, emulator, no_quota):
    rng = random.Random(4)
    delegates = seed_delegates(db, DELEGATE_COUNT)
    outsiders = [("U" + f"e{n:031x}")[:33] for n in range(20)]
    item = make_open_item(db, services)
    assert db.scalar(select(func.count()).select_from(Ballot).where(Ballot.item_id == item.id)) == DELEGATE_COUNT

    truth = {uid: rng.choice([0, 0, 0, 1, 1, 2]) for uid in delegates}
    # Taps carry x=1: the item allows no change, so the tap that records is the confirmation.
    events: list[dict] = []
    for uid, option in truth.items():
        tap = ev.postback_event(uid, f"a=vote&b={item.token}&o={option}&x=1", emulator.issue_reply_token(uid))
        events.append(tap)
        if rng.random() < 0.2:  # LINE redelivers: same webhookEventId
            again = ev.redeliver(tap)
            again["replyToken"] = emulator.issue_reply_token(uid)
            events.append(again)
        if rng.random() < 0.2:  # a double tap: a second, distinct event with the same button
            events.append(ev.postback_event(uid, f"a=vote&b={item.token}&o={option}&x=1", emulator.issue_reply_token(uid)))
    for uid in outsiders:
        events.append(ev.postback_event(uid, f"a=vote&b={item.token}&o=0&x=1", emulator.issue_reply_token(uid)))
    rng.shuffle(events)
    duplicates = len(events) - len(delegates) - len(outsiders)
    assert duplicates > 0.3 * DELEGATE_COUNT

    start = threading.Barrier(THREADS)

    def send(chunk: list[dict]) -> list[int]:
        start.wait()  # every thread fires at once
        return [post(app, e) for e in chunk]

    chunks = [events[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [s for result in pool.map(send, chunks) for s in result]
    assert statuses == [200] * len(events)

    db.rollback()
    expected = [sum(1 for o in truth.values() if o == i) for i in range(3)]
    result = assembly.tally(db, db.get(AgendaItem, item.id))
    assert result.counts == expected
    assert (result.voted, result.eligible) == (DELEGATE_COUNT, DELEGATE_COUNT)
    assert db.scalar(select(func.count()).select_from(Vote).where(Vote.item_id == item.id)) == DELEGATE_COUNT
    # Every delegate was told once that the vote was recorded; repeats were told nothing changed.
    for uid in delegates:
        texts = replies_to(emulator, uid)
        assert sum("บันทึกคะแนนแล้ว" in t for t in texts) == 1, (uid, texts)
        assert all("บันทึกคะแนนแล้ว" in t or "ไม่มีอะไรเปลี่ยน" in t for t in texts), texts
    for uid in outsiders:
        assert all("ไม่มีสิทธิ์" in t for t in replies_to(emulator, uid))
    assert db.scalar(select(func.count()).select_from(ProcessedEvent)) == len({e["webhookEventId"] for e in events})


def test_closing_while_votes_are_in_flight_counts_exactly_the_acknowledged_votes(app, db, services, emulator,
                                                                                  no_quota):
    delegates = seed_delegates(db, 150, prefix="c")
    item = make_open_item(db, services)
    tz = services.settings.timezone

    def vote(uid: str) -> int:
        return post(app, ev.postback_event(uid, f"a=vote&b={item.token}&o=0&x=1", emulator.issue_reply_token(uid)))

    def close() -> None:
        with services.session_factory() as session, session.begin():
            assembly.close_item(session, session.get(AgendaItem, item.id), utcnow(), tz)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(vote, uid) for uid in delegates[:100]]
        closer = pool.submit(close)  # lands somewhere in the middle of the stream
        futures += [pool.submit(vote, uid) for uid in delegates[100:]]
        closer.result()
        assert [f.result() for f in futures] == [200] * len(delegates)

    acknowledged = sum(any("บันทึกคะแนนแล้ว" in t for t in replies_to(emulator, uid)) for uid in delegates)
    refused = sum(any("ปิดรับคะแนนแล้ว" in t for t in replies_to(emulator, uid)) for uid in delegates)
    assert acknowledged + refused == len(delegates)
    db.rollback()
    counted = assembly.tally(db, db.get(AgendaItem, item.id)).counts[0]
    assert counted == acknowledged  # no vote told "recorded" is missing, none told "closed" slipped in
    # After the close, a vote is refused (and costs no lock).
    late = seed_delegates(db, 1, prefix="b")[0]
    assert vote(late) == 200 and "ปิดรับคะแนนแล้ว" in replies_to(emulator, late)[-1]
    assert db.scalar(select(func.count()).select_from(Vote).where(Vote.ballot_id.is_not(None))) == 0
