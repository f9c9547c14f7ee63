"""National assembly voting, end to end: delegates tap ballots through signed webhooks, the
secretariat opens, closes and reads results, jobs open/close/remind, the CLI imports and exports."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot import assembly, postback
from bot.assembly import Outcome, decide
from bot.cli import main
from bot.models import (
    AgendaItem,
    ProvinceGroup,
    AssemblySession,
    Ballot,
    DecisionRule,
    ItemStatus,
    Member,
    OutboxMessage,
    Role,
    RoleGrant,
    Vote,
    VoteChange,
    utcnow,
)
from bot.roles import grant, revoke

from .chat import actions_in
from .chat import actions_in as _actions
from .helpers import register

# Items open and close at times relative to "now", sessions are dated, pickers offer dates: all
# of it runs on a clock stopped at a mid-month weekday morning (tests/clock.py).
pytestmark = pytest.mark.usefixtures("frozen_now")

SECRETARIAT = "U" + "5" * 32
OUTSIDER = "U" + "6" * 32
# Delegates: two in the north (Chiang Mai province seat, a northern group seat), one in Bangkok's
# region, one region seat in the northeast, one more Chiang Mai seat.
DELEGATES = [
    ("U" + "a1" * 16, "ผู้แทน เหนือหนึ่ง", "province:50"),
    ("U" + "a2" * 16, "ผู้แทน เหนือสอง", "province:50"),
    ("U" + "a3" * 16, "ผู้แทน กรุงเทพ", "province:10"),
    ("U" + "a4" * 16, "ผู้แทน อีสาน", "region:isan_upper"),
    ("U" + "a5" * 16, "ผู้แทน เหนือสาม", "province:50"),
]


def make_delegates(chat, db, specs=DELEGATES):
    users = []
    for uid, name, scope in specs:
        member = Member(line_user_id=uid, full_name=name, display_name=name, locale="th", active=True)
        db.add(member)
        db.flush()
        grant(db, member, Role.DELEGATE, scope)
        users.append(chat.user(uid, name))
    db.commit()
    return users


def make_secretariat(chat, db, uid=SECRETARIAT):
    person = register(chat, user_id=uid, name="กองเลขา สมัชชา", province="กรุงเทพมหานคร")
    member = db.scalar(select(Member).where(Member.line_user_id == uid))
    grant(db, member, Role.SECRETARIAT, "national")
    db.commit()
    return person


def make_item(db, **fields) -> AgendaItem:
    now = utcnow()
    session = db.scalar(select(AssemblySession)) or AssemblySession(
        name="สมัชชาทดสอบ", held_on=now.date(), place="กรุงเทพฯ")
    values = dict(title="รับรองแผนงานปี 2570", description="แผนงานขบวนปีหน้า", secret=True,
                  opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(days=2), allow_change=False,
                  abstain_index=assembly.DEFAULT_ABSTAIN, token=assembly.new_token())
    values.update(fields)
    item = AgendaItem(session=session, **values)
    db.add(item)
    db.commit()
    return item


def open_item(services, db, item, now=None):
    opened = assembly.open_item(db, item, now or utcnow(), services.settings.timezone)
    db.commit()
    services.sender.deliver(ids=opened.outbox_ids)
    return opened


def cast(user, label):
    """Tap an option on the latest ballot this delegate received (pushed or shown), as people do:
    the ballot stays in the chat after later replies."""
    from .chat import actions_in

    for message in reversed(user.all_messages()):
        for action in actions_in(message):
            if action.get("label") == label and action["data"].startswith("a=vote&"):
                user.postback(action["data"])
                confirm_if_asked(user)
                return
    raise AssertionError(f"no ballot with {label!r} for {user.user_id}")


def confirm_if_asked(user) -> None:
    """An item that allows no change asks once more; confirm (the same tap with x=1), in any language."""
    replies = user.replies()
    for action in actions_in(replies[-1]) if replies else []:
        if action.get("data", "").startswith("a=vote&") and action["data"].endswith("&x=1"):
            user.postback(action["data"])
            return


def votes_of(db, item) -> list[int]:
    db.rollback()  # see what the bot committed
    return assembly.tally(db, db.get(AgendaItem, item.id)).counts


# ---- the whole lifecycle ---------------------------------------------------------------------------


def test_full_lifecycle(chat, db, services):
    secretariat = make_secretariat(chat, db)
    delegates = make_delegates(chat, db)
    item = make_item(db, opens_at=utcnow() + timedelta(hours=1))

    # Scheduled: the secretariat sees it and opens it now.
    secretariat.say("สมัชชา")
    assert secretariat.sees("รับรองแผนงานปี 2570", "รอเปิดลงคะแนน")
    secretariat.tap("เปิดลงคะแนนตอนนี้")
    assert "ส่งบัตรให้ผู้แทน 5 คน" in secretariat.last_text()

    # Every delegate got the ballot (one multicast, high priority, urgent) with one button per option.
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "vote.ballot"))
    assert sorted(row.recipients) == sorted(uid for uid, _n, _s in DELEGATES)
    assert row.priority == 10 and row.urgent
    for user in delegates:
        ballot = user.all_messages()[-1]
        assert ballot["_via"] == "multicast" and "รับรองแผนงานปี 2570" in ballot["altText"]
        labels = [a["label"] for a in user.replies() for a in _actions(a)]
        assert labels == ["เห็นด้วย", "ไม่เห็นด้วย", "งดออกเสียง"]
        # The button says which item (opaque token) and which option index, nothing else.
        assert set(dict(p.split("=") for p in user.action("เห็นด้วย")["data"].split("&"))) == {"a", "b", "o"}

    for user, label in zip(delegates, ["เห็นด้วย", "เห็นด้วย", "ไม่เห็นด้วย", "งดออกเสียง", "เห็นด้วย"]):
        cast(user, label)
        assert "บันทึกคะแนนแล้ว" in user.last_text() and label in user.last_text()
        assert "เปลี่ยนไม่ได้" in user.last_text()

    # While open, the secretariat sees turnout, never counts per option.
    secretariat.postback(f"a=vote.result&id={item.id}")
    assert "ลงคะแนนแล้ว 5 จาก 5" in secretariat.last_text()

    secretariat.say("สมัชชา")
    secretariat.tap("ปิดลงคะแนนตอนนี้")
    assert "ปิดแล้วเปิดใหม่ไม่ได้" in secretariat.last_text()
    secretariat.tap("ยืนยัน")
    assert secretariat.sees("ผลการลงคะแนน: รับรองแผนงานปี 2570", "3 เสียง (60%)", "ครบองค์ประชุม", "ผ่าน ✅")
    # Secret and small: the north's 3 · 0 · 0 would give away each northern delegate's choice, and
    # with it the totals would give away the two single delegates elsewhere. No region shows a number.
    assert secretariat.sees("ภาคเหนือ", "ลงคะแนน 3/3: ไม่แสดงแยกตามตัวเลือก เพื่อรักษาความลับ")
    assert secretariat.sees("ลงคะแนน 1/1: เห็นด้วย น้อยกว่า 3 · ไม่เห็นด้วย น้อยกว่า 3 · งดออกเสียง น้อยกว่า 3")
    pushed = [m for m in secretariat.all_messages() if m["_via"] == "push" and "ผลการลงคะแนน" in m["altText"]]
    assert len(pushed) == 1  # the result card, to the secretariat, once

    db.rollback()
    item = db.get(AgendaItem, item.id)
    result = assembly.tally(db, item)
    assert item.status is ItemStatus.CLOSED and result.counts == [3, 1, 1]
    assert (result.voted, result.eligible, result.decision.outcome) == (5, 5, Outcome.PASSED)
    north = next(t for t in result.by_region if t.code == "north")
    assert (north.eligible, north.voted, north.counts) == (3, 3, [3, 0, 0])
    # Secret: once closed, no vote row points at a ballot (or a person) any more.
    assert db.scalar(select(func.count()).select_from(Vote).where(Vote.ballot_id.is_not(None))) == 0
    # Anyone voting now (the same ballot button) is told politely and nothing changes.
    delegates[2].postback(f"a=vote&b={item.token}&o=0")
    assert "ปิดรับคะแนนแล้ว" in delegates[2].last_text()
    assert votes_of(db, item) == [3, 1, 1]

    # Results on request ("ผลโหวต"), for delegates too.
    delegates[0].say("ผลโหวต")
    assert delegates[0].sees("ผลการลงคะแนน: รับรองแผนงานปี 2570", "ผ่าน ✅")


# ---- changing a vote -------------------------------------------------------------------------------


def test_change_of_vote_keeps_an_audit_without_the_choice_for_secret_ballots(chat, db, services):
    make_secretariat(chat, db)
    (delegate, other) = make_delegates(chat, db, DELEGATES[:2])
    item = make_item(db, allow_change=True)
    open_item(services, db, item)
    cast(delegate, "เห็นด้วย")
    assert "เปลี่ยนใจได้จนถึง" in delegate.last_text()
    cast(delegate, "ไม่เห็นด้วย")
    assert "เปลี่ยนคะแนนแล้ว" in delegate.last_text() and "ไม่เห็นด้วย" in delegate.last_text()
    cast(delegate, "ไม่เห็นด้วย")
    assert "ไม่มีอะไรเปลี่ยน" in delegate.last_text()
    assert votes_of(db, item) == [0, 1, 0]
    change = db.scalar(select(VoteChange))
    assert change.secret and change.from_option is None and change.to_option is None
    assert db.scalar(select(Ballot).where(Ballot.id == change.ballot_id)).changes == 1


def test_open_ballot_change_is_audited_with_options_and_listed(chat, db, services):
    secretariat = make_secretariat(chat, db)
    (first, second) = make_delegates(chat, db, DELEGATES[:2])
    item = make_item(db, allow_change=True, secret=False)
    open_item(services, db, item)
    cast(first, "เห็นด้วย")
    cast(first, "งดออกเสียง")
    cast(second, "ไม่เห็นด้วย")
    change = db.scalar(select(VoteChange))
    assert (change.secret, change.from_option, change.to_option) == (False, 0, 2)
    secretariat.postback(f"a=vote.voters&id={item.id}")
    text = secretariat.last_text()
    assert "ไม่เห็นด้วย (1): ผู้แทน เหนือสอง" in text and "งดออกเสียง (1): ผู้แทน เหนือหนึ่ง" in text


def test_no_change_when_not_allowed(chat, db, services):
    make_secretariat(chat, db)
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    item = make_item(db, allow_change=False)
    open_item(services, db, item)
    cast(delegate, "เห็นด้วย")
    cast(delegate, "ไม่เห็นด้วย")
    assert "เปลี่ยนคะแนนไม่ได้" in delegate.last_text()
    assert votes_of(db, item) == [1, 0, 0]
    assert db.scalar(select(func.count()).select_from(VoteChange)) == 0


def _ballot_tap(user, label) -> str:
    for message in reversed(user.all_messages()):
        for action in actions_in(message):
            if action.get("label") == label and action["data"].startswith("a=vote&"):
                return action["data"]
    raise AssertionError(f"no ballot with {label!r}")


def test_a_vote_that_cannot_be_changed_is_confirmed_first(chat, db, services):
    make_secretariat(chat, db)
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    item = make_item(db, allow_change=False)
    open_item(services, db, item)
    taps = 0
    delegate.postback(_ballot_tap(delegate, "เห็นด้วย"))
    taps += 1
    assert "ยืนยันเลือก «เห็นด้วย» ไหมคะ" in delegate.last_text()
    assert delegate.chips() == ["ยืนยัน", "ยกเลิก"]
    assert votes_of(db, item) == [0, 0, 0]  # nothing recorded before the confirmation
    confirm = delegate.action("ยืนยัน")["data"]
    assert postback.parse(confirm) == {"a": "vote", "b": item.token, "o": 0, "x": "1"}
    delegate.tap("ยืนยัน")
    taps += 1
    assert taps == 2
    assert "เปลี่ยนไม่ได้" in delegate.last_text()
    assert votes_of(db, item) == [1, 0, 0]
    # The confirmation again (a double tap): nothing changes, nothing is asked.
    delegate.postback(confirm)
    assert "ไม่มีอะไรเปลี่ยน" in delegate.last_text()
    # A forged confirmation of another option after voting: refused, the vote stands.
    delegate.postback(confirm.replace("o=0", "o=1"))
    assert "เปลี่ยนคะแนนไม่ได้" in delegate.last_text()
    assert votes_of(db, item) == [1, 0, 0]


def test_cancelling_the_confirmation_records_nothing(chat, db, services):
    make_secretariat(chat, db)
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    item = make_item(db, allow_change=False)
    open_item(services, db, item)
    delegate.postback(_ballot_tap(delegate, "ไม่เห็นด้วย"))
    delegate.tap("ยกเลิก")
    assert votes_of(db, item) == [0, 0, 0]
    assert actions_in(delegate.last_message())  # the ballots again, to choose anew
    cast(delegate, "เห็นด้วย")
    assert votes_of(db, item) == [1, 0, 0]


def test_a_changeable_vote_is_one_tap(chat, db, services):
    make_secretariat(chat, db)
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    item = make_item(db, allow_change=True)
    open_item(services, db, item)
    delegate.postback(_ballot_tap(delegate, "เห็นด้วย"))
    assert "ยืนยันเลือก" not in delegate.last_text()
    assert votes_of(db, item) == [1, 0, 0]


def test_stale_or_forged_confirmations_are_refused(chat, db, services):
    make_secretariat(chat, db)
    (delegate, other) = make_delegates(chat, db, DELEGATES[:2])
    item = make_item(db, allow_change=False)
    open_item(services, db, item)
    delegate.postback(_ballot_tap(delegate, "เห็นด้วย"))
    confirm = delegate.action("ยืนยัน")["data"]
    # Forged confirmations: a value the bot never sends, or a token that names no ballot.
    delegate.postback(confirm.replace("x=1", "x=2"))
    assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in delegate.last_text()
    delegate.postback(confirm.replace(f"b={item.token}", "b=XXXX" + item.token[4:]))
    assert "ไม่พบบัตรลงคะแนนนี้" in delegate.last_text()
    # Someone without a ballot replaying it.
    outsider = chat.user(OUTSIDER)
    outsider.follow()
    outsider.postback(confirm)
    assert "ไม่มีสิทธิ์ลงคะแนน" in outsider.last_text()
    assert votes_of(db, item) == [0, 0, 0]
    # Stale: the item closed between the question and the confirmation.
    db.get(AgendaItem, item.id).closes_at = utcnow() - timedelta(seconds=1)
    db.commit()
    delegate.postback(confirm)
    assert "ปิดรับคะแนนแล้ว" in delegate.last_text()
    assert votes_of(db, item) == [0, 0, 0]


# ---- refusals: each changes nothing ------------------------------------------------------------------


def test_refusals_are_polite_and_change_nothing(chat, db, services):
    secretariat = make_secretariat(chat, db)
    (delegate, late) = make_delegates(chat, db, DELEGATES[:2])
    item = make_item(db)
    db.execute(RoleGrant.__table__.delete().where(RoleGrant.member_id == db.scalar(
        select(Member.id).where(Member.line_user_id == late.user_id))))
    db.commit()
    open_item(services, db, item)
    data = delegate.action("เห็นด้วย")["data"]
    token = item.token

    # Forged: an unknown token or an option this item does not have...
    for forged in [f"a=vote&b=XXXX{token[4:]}&o=0", f"a=vote&b={token}&o=3"]:
        delegate.postback(forged)
        assert "ไม่พบบัตรลงคะแนนนี้" in delegate.last_text(), forged
    # ... or data no ballot ever carries (bot.postback refuses it before any handler runs).
    for forged in [f"a=vote&b={token}&o=-1", f"a=vote&b={token}&o=x", "a=vote", f"a=vote&b={token}"]:
        delegate.postback(forged)
        assert "ปุ่มนี้ใช้ไม่ได้แล้ว" in delegate.last_text(), forged
    # Not a delegate at all, and a delegate granted after the item opened: not eligible.
    outsider = chat.user(OUTSIDER)
    outsider.follow()
    outsider.postback(data)
    assert "ไม่มีสิทธิ์ลงคะแนน" in outsider.last_text()
    grant(db, db.scalar(select(Member).where(Member.line_user_id == late.user_id)), Role.DELEGATE, "province:50")
    db.commit()
    late.postback(data)
    assert "ไม่มีสิทธิ์ลงคะแนน" in late.last_text()
    assert votes_of(db, item) == [0, 0, 0]

    # A vote, then the same event redelivered by LINE and a replayed tap: still one vote.
    cast(delegate, "เห็นด้วย")
    delegate.resend_last()
    assert delegate.replies() == []  # a redelivered event is skipped, not answered twice
    delegate.postback(data)
    assert "ไม่มีอะไรเปลี่ยน" in delegate.last_text()
    assert votes_of(db, item) == [1, 0, 0]

    # Past closes_at, before the close job ran: refused by the window check.
    db.get(AgendaItem, item.id).closes_at = utcnow() - timedelta(seconds=1)
    db.commit()
    delegate.postback(data.replace("o=0", "o=1"))
    assert "ปิดรับคะแนนแล้ว" in delegate.last_text()
    assert votes_of(db, item) == [1, 0, 0]

    # Not open yet, and withdrawn.
    later = make_item(db, title="วาระถัดไป", opens_at=utcnow() + timedelta(hours=1))
    delegate.postback(f"a=vote&b={later.token}&o=0")
    assert "ยังไม่เปิดลงคะแนน" in delegate.last_text()
    secretariat.postback(f"a=vote.withdraw&id={later.id}")
    secretariat.tap("ยืนยัน")
    assert "ถอนวาระ \"วาระถัดไป\" แล้ว" in secretariat.last_text()
    delegate.postback(f"a=vote&b={later.token}&o=0")
    assert "ถูกถอนออกจากการพิจารณา" in delegate.last_text()
    assert db.scalar(select(func.count()).select_from(Vote).where(Vote.item_id == later.id)) == 0


def test_role_revoked_after_opening_keeps_the_vote_and_the_denominator(chat, db, services):
    make_secretariat(chat, db)
    (delegate, other) = make_delegates(chat, db, DELEGATES[:2])
    item = make_item(db)
    open_item(services, db, item)
    member = db.scalar(select(Member).where(Member.line_user_id == delegate.user_id))
    revoke(db, member, Role.DELEGATE, None)
    db.commit()
    cast(delegate, "ไม่เห็นด้วย")
    assert "บันทึกคะแนนแล้ว" in delegate.last_text()
    db.rollback()
    assert assembly.tally(db, db.get(AgendaItem, item.id)).eligible == 2


def test_only_the_national_secretariat_manages_the_assembly(chat, db, services):
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    regional = register(chat, user_id=OUTSIDER, name="กองเลขา ภาค")
    grant(db, db.scalar(select(Member).where(Member.line_user_id == OUTSIDER)), Role.SECRETARIAT, "region:north")
    db.commit()
    item = make_item(db, opens_at=utcnow() + timedelta(hours=1))
    for who in (delegate, regional):
        for data in (f"a=vote.open&id={item.id}", f"a=vote.close&id={item.id}&x=1",
                     f"a=vote.withdraw&id={item.id}&x=1", f"a=vote.voters&id={item.id}", "cmd=assembly",
                     "cmd=assembly_new_item"):
            who.postback(data)
            assert "กองเลขาสมัชชาระดับชาติเท่านั้น" in who.last_text(), data
    db.rollback()
    assert db.get(AgendaItem, item.id).status is ItemStatus.SCHEDULED


# ---- secret ballots: no per-person choice anywhere ----------------------------------------------------


def test_secret_ballot_leaves_no_choice_per_person_in_any_output(chat, db, services, cli, caplog):
    caplog.set_level(logging.DEBUG)
    secretariat = make_secretariat(chat, db)
    delegates = make_delegates(chat, db)
    item = make_item(db, allow_change=True)
    open_item(services, db, item)
    choices = ["เห็นด้วย", "ไม่เห็นด้วย", "ไม่เห็นด้วย", "งดออกเสียง", "เห็นด้วย"]
    for user, label in zip(delegates, choices):
        cast(user, label)
    cast(delegates[0], "งดออกเสียง")  # a change, audited without the choice

    secretariat.postback(f"a=vote.voters&id={item.id}")
    listing = secretariat.last_text()
    assert "ลงคะแนนลับ" in listing and "ผู้แทน เหนือหนึ่ง" in listing
    assert not any(label in listing for label in ("เห็นด้วย", "ไม่เห็นด้วย", "งดออกเสียง"))

    secretariat.postback(f"a=vote.close&id={item.id}&x=1")
    exported = cli("agenda", "results", str(item.id), "--format", "json")
    data = json.loads(exported.output)
    assert "votes" not in data and data["voted"] == 5
    assert all(set(v) == {"line_user_id", "name"} for v in data["voted_members"])
    csv_out = cli("agenda", "results", str(item.id), "--format", "csv").output
    assert not any(uid in csv_out or name in csv_out for uid, name, _s in DELEGATES)
    with pytest.raises(PermissionError):
        assembly.open_ballot_votes(db, db.get(AgendaItem, item.id))

    # No output anywhere puts a delegate next to their choice: not replies or pushes to anyone
    # but the voter themself, not the secretariat's screens, not logs.
    others = [m for user in [secretariat] for m in user.all_messages()]
    blob = json.dumps(others, ensure_ascii=False)
    for (uid, name, _scope) in DELEGATES:
        for line in blob.split("\\n"):
            if name in line:
                assert not any(label in line for label in ("เห็นด้วย", "งดออกเสียง")), line
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for uid, name, _scope in DELEGATES:
        assert uid not in logged and name not in logged
    assert "o=" not in logged and "เห็นด้วย" not in logged
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Vote).where(Vote.ballot_id.is_not(None))) == 0
    assert db.scalar(select(func.count()).select_from(VoteChange).where(VoteChange.to_option.is_not(None))) == 0


# ---- small numbers: a breakdown never gives a secret ballot away ------------------------------------

F, H = assembly.FEWER, assembly.HIDDEN


def _breakdown(rows, secret=True):
    """rows: per region, the counts per option; turnout is their sum, eligible a few more."""
    n = len(rows[0])
    tallies = [assembly.RegionTally(i, f"r{i}", f"ภาค {i}", f"Region {i}", eligible=sum(c) + 2, voted=sum(c),
                                    counts=list(c)) for i, c in enumerate(rows)]
    totals = [sum(c[o] for c in rows) for o in range(n)]
    result = assembly.Result(1, sum(t.eligible for t in tallies), sum(totals), totals,
                             decide(totals, eligible=20, abstain_index=None, quorum_percent=50,
                                    rule=DecisionRule.MAJORITY, motion=False), tallies, True)
    item = AgendaItem(secret=secret, custom_options=[f"o{o}" for o in range(n)])
    return [row.cells for row in assembly.breakdown_cells(item, result)]


def test_small_cells_of_a_secret_ballot_are_masked():
    # A region with 1 or 2 voters shows no number; 0, 1 and 2 read alike ("fewer than 3").
    cells = _breakdown([[4, 3, 3], [3, 4, 3], [1, 0, 0], [0, 1, 1]])
    assert cells[2] == [F, F, F] and cells[3] == [F, F, F]
    # Cells under 3 are masked in a big region too, zero included, as long as they can't be worked out.
    assert _breakdown([[5, 1, 1], [4, 1, 2]]) == [[5, F, F], [4, F, F]]
    # Nothing small: every number shows.
    assert _breakdown([[4, 3, 3], [3, 5, 4]]) == [[4, 3, 3], [3, 5, 4]]
    # An open ballot (who voted what is listed anyway) shows every count.
    assert _breakdown([[1, 0, 0], [0, 2, 0]], secret=False) == [[1, 0, 0], [0, 2, 0]]


def test_masked_cells_cannot_be_worked_out_by_subtraction():
    # Unanimity: 3 · 0 · 0 is each voter's choice even with the zeros masked (turnout 3 − 3 = 0).
    assert _breakdown([[3, 0, 0], [4, 3, 5]])[0] == [H, H, H]
    # One masked cell in a row: turnout minus the others gives it.
    assert _breakdown([[5, 4, 2], [4, 3, 5]])[0] == [H, H, H]
    # Across regions: the item totals minus the shown cells give the one small region's split, so
    # a second region's split is withheld too (the smallest showing a number).
    assert _breakdown([[4, 3, 3], [6, 5, 7], [1, 1, 0]]) == [[H, H, H], [6, 5, 7], [F, F, F]]
    # With two regions and the totals public, one region's split gives the other's: both withheld.
    assert _breakdown([[3, 0, 0], [4, 3, 5]]) == [[H, H, H], [H, H, H]]
    # Chains of both: 10 · 4 · 1 hides its lone 1, then its 10 follows from the first option's
    # total, so a second region goes; the two left split 18 · 10 · 3 between 15 and 16 voters in
    # more ways than one.
    assert _breakdown([[10, 4, 1], [8, 6, 2], [12, 3, 3]]) == [[H, H, H], [H, H, H], [12, 3, 3]]


def test_every_result_surface_shows_the_masked_breakdown(chat, db, services, cli, emulator):
    """Cards (pushed at close, "ผลโหวต", the secretariat's result screen), a bound group's result
    message (Thai and English) and both exports all show the breakdown through breakdown_cells."""
    from bot import digests
    from bot.models import BoundGroup, ScopeKind

    from .chat import _walk

    secretariat = make_secretariat(chat, db)
    delegates = make_delegates(chat, db)
    groups = {"th": "C" + "d1" * 16, "en": "C" + "d2" * 16}
    for locale, group_id in groups.items():
        db.add(BoundGroup(line_group_id=group_id, name="กลุ่ม", locale=locale, scope_kind=ScopeKind.NATIONAL,
                          scope_code="", bound_at=utcnow() - timedelta(days=1), assembly_results=True))
    item = make_item(db)
    open_item(services, db, item)
    # The north (3 voters) is unanimous; Bangkok's and the northeast's single delegates differ.
    for user, label in zip(delegates, ["เห็นด้วย", "เห็นด้วย", "ไม่เห็นด้วย", "งดออกเสียง", "เห็นด้วย"]):
        cast(user, label)
    db.rollback()
    closed = assembly.close_item(db, db.get(AgendaItem, item.id), utcnow(), services.settings.timezone)
    ids = closed.outbox_ids + digests.group_results(db, utcnow(), services.settings.timezone)
    db.commit()
    services.sender.deliver(ids=ids)

    one_voter = "ลงคะแนน 1/1: เห็นด้วย น้อยกว่า 3 · ไม่เห็นด้วย น้อยกว่า 3 · งดออกเสียง น้อยกว่า 3"
    north = "ลงคะแนน 3/3: ไม่แสดงแยกตามตัวเลือก เพื่อรักษาความลับ"

    def card_text(messages):  # what the bubbles show (the alt text repeats it for notifications)
        return "\n".join(node["text"] for m in messages for node in _walk(m) if isinstance(node.get("text"), str))

    pushed = [m for m in secretariat.all_messages() if m["_via"] == "push" and "ผลการลงคะแนน" in m["altText"]]
    secretariat.postback(f"a=vote.result&id={item.id}")
    shown = secretariat.replies()
    delegates[0].say("ผลโหวต")
    asked = delegates[0].replies()
    for messages in (pushed, shown, asked, emulator.messages_for(groups["th"])):
        text = card_text(messages)
        assert "3 เสียง (60%)" in text  # the item's totals stay
        assert text.count(one_voter) == 2 and north in text, text
    english = card_text(emulator.messages_for(groups["en"]))
    assert "voted 1/1: Approve fewer than 3 · Reject fewer than 3 · Abstain fewer than 3" in english, english
    assert "voted 3/3: split not shown, to keep the ballot secret" in english

    data = json.loads(cli("agenda", "results", str(item.id)).output)
    assert [o["votes"] for o in data["options"]] == [3, 1, 1]
    by_region = {r["region"]: r for r in data["by_region"]}
    assert by_region["north"]["voted"] == 3
    assert by_region["north"]["votes"] == dict.fromkeys(["เห็นด้วย", "ไม่เห็นด้วย", "งดออกเสียง"], "ไม่แสดง")
    small = [r for r in data["by_region"] if r["voted"] == 1]
    assert len(small) == 2 and all(set(r["votes"].values()) == {"น้อยกว่า 3"} for r in small)
    rows = cli("agenda", "results", str(item.id), "--format", "csv").output.splitlines()
    assert rows[1].endswith(",5,5,3,1,1,True,passed")
    regional = [r.split(",") for r in rows[2:]]
    assert [r[5:8] for r in regional if r[1] == "north"] == [["ไม่แสดง"] * 3]
    assert sorted(r[5:8] for r in regional if r[4] == "1") == [["น้อยกว่า 3"] * 3] * 2
    assert not any(cell.isdigit() for r in regional for cell in r[5:8])


def _consistent(rows, cells, totals):
    """Every table of counts agreeing with what is shown: turnout per region, the item totals,
    the numbers shown, "fewer than 3" (0–2) and "not shown" (anything)."""
    import itertools

    n = len(totals)
    choices = []
    for counts, row in zip(rows, cells):
        v = sum(counts)
        options = [c for c in itertools.product(range(v + 1), repeat=n) if sum(c) == v and all(
            (x == cell) if isinstance(cell, int) else (x < 3 if cell == F else True) for x, cell in zip(c, row))]
        choices.append(options)
    for table in itertools.product(*choices):
        if [sum(r[o] for r in table) for o in range(n)] == totals:
            yield table


def test_no_masked_cell_is_determined_by_what_is_shown():
    """Brute force over small tables: for every region with voters, no cell that is not shown as a
    number has only one possible value given everything that is shown."""
    import random

    rng = random.Random(2026)
    checked = 0
    for _ in range(400):
        n = rng.choice((2, 3))
        rows = [[rng.choice((0, 0, 1, 2, 3, 4)) for _o in range(n)] for _r in range(rng.choice((2, 3)))]
        cells = _breakdown(rows)
        totals = [sum(r[o] for r in rows) for o in range(n)]
        tables = list(_consistent(rows, cells, totals))
        assert tuple(tuple(r) for r in rows) in {tuple(tuple(r) for r in t) for t in tables}
        if sum(1 for r in rows if sum(r)) <= 1:
            continue  # the only region with voters: the item totals are its split
        for r, row in enumerate(cells):
            if sum(rows[r]) == 0:
                continue  # no voter, nothing to give away
            for o, cell in enumerate(row):
                if not isinstance(cell, int) and totals[o] not in (0, sum(sum(x) for x in rows)):
                    checked += 1
                    assert len({t[r][o] for t in tables}) > 1, (rows, cells, r, o)
    assert checked > 100


# ---- results arithmetic ------------------------------------------------------------------------------


def _decide(counts, eligible=10, abstain=2, quorum=50, rule=DecisionRule.MAJORITY, motion=True):
    return decide(counts, eligible=eligible, abstain_index=abstain, quorum_percent=quorum, rule=rule, motion=motion)


def test_decisions_at_the_edges():
    # Quorum is strictly more than half of eligible: 5 of 10 is not enough, 6 is.
    assert _decide([5, 0, 0]).outcome is Outcome.NO_QUORUM
    assert _decide([6, 0, 0]).outcome is Outcome.PASSED
    # Zero votes (and zero eligible): no quorum, never a pass.
    assert _decide([0, 0, 0]) .outcome is Outcome.NO_QUORUM
    assert _decide([0, 0, 0], eligible=0).outcome is Outcome.NO_QUORUM
    # All abstain: quorum met (they took part) but nothing to decide on: not passed.
    all_abstain = _decide([0, 0, 8])
    assert all_abstain.quorum_met and all_abstain.outcome is Outcome.NOT_PASSED and all_abstain.decisive == 0
    # A tie is not more than half: not passed.
    assert _decide([3, 3, 2]).outcome is Outcome.NOT_PASSED
    # Abstentions are excluded from the base: 4 approve, 3 reject, 3 abstain passes by majority…
    assert _decide([4, 3, 3]).outcome is Outcome.PASSED
    # …but not by two thirds (4/7 < 2/3); exactly two thirds passes.
    assert _decide([4, 3, 3], rule=DecisionRule.TWO_THIRDS).outcome is Outcome.NOT_PASSED
    assert _decide([6, 3, 1], rule=DecisionRule.TWO_THIRDS).outcome is Outcome.PASSED
    assert _decide([5, 3, 2], rule=DecisionRule.TWO_THIRDS).outcome is Outcome.NOT_PASSED  # 5/8 < 2/3
    # Rejection winning is "not passed" for a motion.
    rejected = _decide([2, 7, 0])
    assert rejected.outcome is Outcome.NOT_PASSED and rejected.winner == 1
    # Custom options: a carried option is PASSED with its index; a split is not.
    plan = _decide([2, 6, 1, 0], abstain=3, motion=False)
    assert plan.outcome is Outcome.PASSED and plan.winner == 1
    split = _decide([3, 3, 2, 1], abstain=3, motion=False)
    assert split.outcome is Outcome.NOT_PASSED and split.winner is None
    # Custom quorum: more than 75% of 8 means at least 7.
    assert _decide([6, 0, 0], eligible=8, quorum=75).outcome is Outcome.NO_QUORUM
    assert _decide([7, 0, 0], eligible=8, quorum=75).outcome is Outcome.PASSED


def test_tally_two_thirds_and_all_abstain_through_the_webhook(chat, db, services):
    make_secretariat(chat, db)
    delegates = make_delegates(chat, db)
    two_thirds = make_item(db, title="แก้ข้อบังคับ", rule=DecisionRule.TWO_THIRDS)
    open_item(services, db, two_thirds)
    for user, label in zip(delegates, ["เห็นด้วย", "เห็นด้วย", "ไม่เห็นด้วย", "งดออกเสียง", "งดออกเสียง"]):
        cast(user, label)
    db.rollback()
    closed = assembly.close_item(db, db.get(AgendaItem, two_thirds.id), utcnow(), services.settings.timezone)
    db.commit()
    assert closed.result.counts == [2, 1, 2] and closed.result.decision.outcome is Outcome.PASSED  # 2/3 exactly

    abstain = make_item(db, title="วาระงดทั้งหมด")
    open_item(services, db, abstain)
    for user in delegates[:3]:
        cast(user, "งดออกเสียง")
    db.rollback()
    closed = assembly.close_item(db, db.get(AgendaItem, abstain.id), utcnow(), services.settings.timezone)
    db.commit()
    assert closed.result.decision.quorum_met and closed.result.decision.outcome is Outcome.NOT_PASSED

    nobody = make_item(db, title="วาระไม่มีใครลง")
    open_item(services, db, nobody)
    db.rollback()
    closed = assembly.close_item(db, db.get(AgendaItem, nobody.id), utcnow(), services.settings.timezone)
    db.commit()
    assert closed.result.voted == 0 and closed.result.decision.outcome is Outcome.NO_QUORUM


# ---- my ballots ----------------------------------------------------------------------------------------


def test_my_ballots_lists_open_items_not_yet_voted(chat, db, services):
    make_secretariat(chat, db)
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    delegate.say("บัตรของฉัน")
    assert "ไม่มีบัตรลงคะแนนของคุณ" in delegate.last_text()
    first = make_item(db, title="วาระแรก", closes_at=utcnow() + timedelta(hours=3))
    second = make_item(db, title="วาระสอง")
    make_item(db, title="วาระยังไม่เปิด", opens_at=utcnow() + timedelta(days=1), closes_at=utcnow() + timedelta(days=2))
    open_item(services, db, first)
    open_item(services, db, second)
    delegate.say("บัตรของฉัน")
    assert delegate.sees("วาระแรก", "วาระสอง", "2 ใบ") and not delegate.sees("วาระยังไม่เปิด")
    delegate.postback(f"a=vote&b={first.token}&o=0")
    confirm_if_asked(delegate)
    assert "บัตรถัดไป" in delegate.chips()
    delegate.tap("บัตรถัดไป")
    assert delegate.sees("วาระสอง") and not delegate.sees("วาระแรก")
    cast(delegate, "ไม่เห็นด้วย")
    assert "บัตรถัดไป" not in delegate.chips()  # the last open ballot: no next one (the item not open yet is not)
    delegate.say("บัตรของฉัน")
    assert "ลงคะแนนครบทุกวาระ" in delegate.last_text()


# ---- scheduled work ------------------------------------------------------------------------------------


def test_reminders_go_only_to_those_who_have_not_voted(chat, db, services):
    make_secretariat(chat, db)
    delegates = make_delegates(chat, db, DELEGATES[:3])
    now = utcnow()
    tz = services.settings.timezone
    item = make_item(db, opens_at=now - timedelta(days=1), closes_at=now + timedelta(hours=30))
    short = make_item(db, title="วาระสั้น", opens_at=now, closes_at=now + timedelta(hours=3))
    open_item(services, db, item, now=now - timedelta(days=1))
    open_item(services, db, short, now=now)
    delegates[0].postback(f"a=vote&b={item.token}&o=0")
    confirm_if_asked(delegates[0])

    assert assembly.send_reminders(db, now, tz) == 0  # 30 h left: too early for either
    at_24 = item.closes_at - timedelta(hours=23)
    assert assembly.send_reminders(db, at_24, tz) == 1
    assert assembly.send_reminders(db, at_24 + timedelta(minutes=1), tz) == 0  # a re-run queues nothing
    db.commit()
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "vote.reminder_24h"))
    assert sorted(row.recipients) == sorted(u.user_id for u in delegates[1:])
    assert not row.urgent  # a day is left: it may wait for the end of quiet hours
    assert "อย่าลืมลงคะแนน" in json.dumps(row.messages, ensure_ascii=False)

    delegates[1].postback(f"a=vote&b={item.token}&o=1")
    confirm_if_asked(delegates[1])
    db.rollback()  # end the read snapshot before writing (SQLite refuses a stale writer)
    at_2 = item.closes_at - timedelta(hours=1, minutes=30)
    assert assembly.send_reminders(db, at_2, tz) == 1
    db.commit()
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "vote.reminder_2h"))
    assert row.recipients == [delegates[2].user_id] and row.urgent
    # The short item opened 3 h before closing: no "24 hours left", but it gets the 2 h reminder.
    assert db.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"vote:{short.id}:remind24h%"))) == 0
    assert assembly.send_reminders(db, short.closes_at - timedelta(hours=1), tz) == 1
    db.commit()
    services.sender.deliver(now=at_2)
    assert "อย่าลืมลงคะแนน" in delegates[2].all_messages()[-2]["text"]


def test_jobs_open_and_close_on_time_once(chat, db, services, clock_at):
    secretariat = make_secretariat(chat, db)
    delegates = make_delegates(chat, db, DELEGATES[:2])
    now = utcnow()
    tz = services.settings.timezone
    item = make_item(db, opens_at=now + timedelta(minutes=5), closes_at=now + timedelta(hours=2))
    missed = make_item(db, title="วาระตกหล่น", opens_at=now - timedelta(hours=3), closes_at=now - timedelta(hours=1))
    assert assembly.open_due_items(db, now, tz) == 0  # not yet; the missed one is left alone
    assert assembly.open_due_items(db, now + timedelta(minutes=5), tz) == 1
    assert assembly.open_due_items(db, now + timedelta(minutes=6), tz) == 0  # already open
    db.commit()
    assert db.get(AgendaItem, missed.id).status is ItemStatus.SCHEDULED
    assert db.scalar(select(func.count()).select_from(Ballot).where(Ballot.item_id == item.id)) == 2
    clock_at.move_to(now + timedelta(minutes=6))  # the ballots were queued at the opening, 5 minutes on
    services.sender.deliver()
    cast(delegates[0], "เห็นด้วย")
    db.rollback()  # end the read snapshot before writing (SQLite refuses a stale writer)
    assert assembly.close_due_items(db, now + timedelta(minutes=90), tz) == 0
    assert assembly.close_due_items(db, item.closes_at, tz) == 1
    assert assembly.close_due_items(db, item.closes_at + timedelta(minutes=1), tz) == 0
    db.commit()
    clock_at.move_to(item.closes_at + timedelta(minutes=1))
    services.sender.deliver()
    card = secretariat.all_messages()[-1]
    # 1 of 2 voted: exactly half is not "more than half", so no quorum and no decision.
    assert card["_via"] == "push" and "ผลการลงคะแนน" in card["altText"]
    assert "ไม่มีมติ (ไม่ครบองค์ประชุม)" in card["altText"] and "1 จาก 2 คน (50%)" in card["altText"]
    assert db.get(AgendaItem, item.id).status is ItemStatus.CLOSED


def test_register_jobs_with_the_scheduler_registry(services):
    from bot.jobs import JobRegistry, run_job

    registry = JobRegistry()
    assembly.register_jobs(registry)
    names = [spec.name for spec in registry]
    assert names == ["assembly.close_due", "assembly.open_due", "assembly.remind"]
    outcome = run_job(services, registry.get("assembly.open_due"), utcnow(), "test")
    assert outcome.status == "done" and outcome.result == 0


# ---- setting up by chat ---------------------------------------------------------------------------------


def test_secretariat_sets_up_a_session_and_an_item_by_chat(chat, db, services):
    secretariat = make_secretariat(chat, db)
    secretariat.say("สมัชชา")
    assert "ยังไม่มีสมัชชา" in secretariat.last_text()
    secretariat.tap("สร้างสมัชชาใหม่")
    secretariat.say("สมัชชาขบวนองค์กรชุมชนแห่งชาติ 2570")
    secretariat.say("15 ม.ค. 2570")
    secretariat.say("ศูนย์ประชุมบางเขน")
    assert secretariat.sees("ตรวจข้อมูลสมัชชา", "15 ม.ค. 2570")
    secretariat.tap("บันทึก")
    secretariat.tap("เพิ่มวาระ")
    secretariat.tap("สมัชชาขบวนองค์กรชุม…")
    secretariat.say("เลือกแผนที่อยู่อาศัย")
    secretariat.say("เลือกแผนหนึ่งแผนสำหรับปีหน้า")
    secretariat.tap("กำหนดเอง")
    secretariat.say("แผน ก, แผน ข, แผน ก")
    assert "ซ้ำ" in secretariat.last_text()
    secretariat.say("แผน ก, แผน ข, งดออกเสียง")
    secretariat.tap("ลงคะแนนเปิดเผย")
    secretariat.tap("60")
    secretariat.tap("สองในสาม")
    secretariat.say("15 ม.ค. 2570 9:00")
    secretariat.say("14 ม.ค. 2570 9:00")
    assert "เวลาปิดต้องหลังเวลาเปิด" in secretariat.last_text()
    action = secretariat.action("เลือกวันเวลา")
    assert action["type"] == "datetimepicker" and action["mode"] == "datetime"
    secretariat.postback(action["data"], params={"datetime": "2027-01-15T12:00"})
    secretariat.tap("เปลี่ยนได้")
    assert secretariat.sees("ตรวจข้อมูลวาระ", "แผน ก, แผน ข, งดออกเสียง", "15 ม.ค. 2570 09:00 น.")
    secretariat.tap("บันทึก")
    assert "บันทึกวาระ \"เลือกแผนที่อยู่อาศัย\" แล้ว" in secretariat.last_text()

    item = db.scalar(select(AgendaItem))
    assert item.custom_options == ["แผน ก", "แผน ข", "งดออกเสียง"] and item.abstain_index == 2
    assert (item.secret, item.quorum_percent, item.rule, item.allow_change) == (False, 60, DecisionRule.TWO_THIRDS,
                                                                                True)
    assert item.opens_at == datetime(2027, 1, 15, 2, 0, tzinfo=timezone.utc)
    assert item.closes_at == datetime(2027, 1, 15, 5, 0, tzinfo=timezone.utc)
    assert item.session.place == "ศูนย์ประชุมบางเขน"


def test_agenda_item_times_typed_in_thai_or_picked(chat, db, frozen_now):
    """The voting flow reads moments with the same step as meetings: Thai digits, Buddhist years, spoken
    times of any length, the picker; opening may be "now or earlier", closing may not be past."""
    secretariat = make_secretariat(chat, db)
    db.add(AssemblySession(name="สมัชชาทดสอบเวลา", held_on=frozen_now.date(), place="ศาลากลาง"))
    db.commit()
    secretariat.say("เพิ่มวาระ")
    secretariat.tap("สมัชชาทดสอบเวลา")
    secretariat.say("วาระทดสอบเวลา")
    secretariat.tap("ข้าม")
    secretariat.tap("ตัวเลือกมาตรฐาน")
    secretariat.tap("ลงคะแนนลับ")
    secretariat.tap("50")
    secretariat.tap("เสียงข้างมาก")
    picker = secretariat.action("เลือกวันเวลา")  # 10:00 now: opens on 11:00, nothing before 10:01
    assert (picker["mode"], picker["initial"], picker["min"]) == ("datetime", "2026-11-18T11:00", "2026-11-18T10:01")
    secretariat.say("เร็ว ๆ นี้")
    assert "อ่านวันเวลานี้ไม่ออก" in secretariat.last_text()
    secretariat.say("พรุ่งนี้ เวลา บ่าย 2 โมง ครึ่ง")  # four words of time
    secretariat.say("เมื่อวาน 10:00")
    assert "ผ่านไปแล้ว" in secretariat.last_text()
    secretariat.say("๑๙/๑๑/๒๕๖๙ ๑๔:๓๐")  # the same moment as opening: closing must come after it
    assert "เวลาปิดต้องหลังเวลาเปิด" in secretariat.last_text()
    secretariat.say("๑๙/๑๑/๒๕๖๙ ๑๖:๐๐ น.")
    secretariat.tap("เปลี่ยนไม่ได้")
    assert secretariat.sees("ตรวจข้อมูลวาระ", "19 พ.ย. 2569 14:30 น.", "19 พ.ย. 2569 16:00 น.")
    secretariat.tap("บันทึก")
    item = db.scalar(select(AgendaItem).where(AgendaItem.title == "วาระทดสอบเวลา"))
    assert item.opens_at == datetime(2026, 11, 19, 7, 30, tzinfo=timezone.utc)
    assert item.closes_at == datetime(2026, 11, 19, 9, 0, tzinfo=timezone.utc)


def test_agenda_item_may_open_in_the_past(chat, db, frozen_now):
    secretariat = make_secretariat(chat, db)
    db.add(AssemblySession(name="สมัชชาทดสอบเวลา", held_on=frozen_now.date(), place="ศาลากลาง"))
    db.commit()
    secretariat.say("เพิ่มวาระ")
    secretariat.tap("สมัชชาทดสอบเวลา")
    secretariat.say("วาระเปิดแล้ว")
    for chip in ("ข้าม", "ตัวเลือกมาตรฐาน", "ลงคะแนนลับ", "50", "เสียงข้างมาก"):
        secretariat.tap(chip)
    secretariat.say("วันนี้ 9:00")  # an hour ago: voting opens at once
    assert "ปิดลงคะแนนเมื่อไร" in secretariat.last_text()


# ---- operator commands -----------------------------------------------------------------------------------


AGENDA_YAML = """
session: {name: "สมัชชาแห่งชาติ 2569", date: 2026-12-12, place: "กรุงเทพฯ"}
items:
  - title: "รับรองรายงานการประชุม"
    opens_at: "2026-12-12 09:00"
    closes_at: "2026-12-12 12:00"
  - title: "เลือกประเด็นขับเคลื่อนหลัก"
    description: "เลือกหนึ่งประเด็น"
    options: [ที่ดิน, สวัสดิการ, งดออกเสียง]
    secret: false
    quorum: 60
    rule: two_thirds
    opens_at: "12 ธ.ค. 2569 13:00"
    closes_at: 2026-12-12T15:00:00+07:00
    allow_change: yes
"""


def test_agenda_import_and_results_export(cli, db, tmp_path, chat, services):
    bad = tmp_path / "bad.yaml"
    bad.write_text(AGENDA_YAML.replace('"2026-12-12 12:00"', '"2026-12-12 08:00"').replace("quorum: 60", "quorum: 150"),
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["agenda", "import", str(bad)])
    assert result.exit_code != 0 and "item 1: closes_at must be after opens_at" in result.output
    assert "item 2: quorum" in result.output and db.scalar(select(func.count()).select_from(AgendaItem)) == 0

    good = tmp_path / "agenda.yaml"
    good.write_text(AGENDA_YAML, encoding="utf-8")
    assert "imported 2 agenda item(s)" in cli("agenda", "import", str(good)).output
    db.rollback()
    items = db.scalars(select(AgendaItem).order_by(AgendaItem.position)).all()
    assert [i.title for i in items] == ["รับรองรายงานการประชุม", "เลือกประเด็นขับเคลื่อนหลัก"]
    assert items[0].custom_options is None and items[0].secret and items[0].abstain_index == 2
    assert items[1].custom_options == ["ที่ดิน", "สวัสดิการ", "งดออกเสียง"] and items[1].abstain_index == 2
    assert items[1].opens_at == datetime(2026, 12, 12, 6, 0, tzinfo=timezone.utc)
    assert items[1].closes_at == datetime(2026, 12, 12, 8, 0, tzinfo=timezone.utc)

    csv_file = tmp_path / "agenda.csv"
    csv_file.write_text(
        "session_name,session_date,session_place,title,options,secret,quorum,rule,opens_at,closes_at,allow_change\n"
        "สมัชชาแห่งชาติ 2569,2026-12-12,กรุงเทพฯ,วาระจาก CSV,ใช่|ไม่ใช่,no,50,majority,"
        "2026-12-12 16:00,2026-12-12 17:00,no\n", encoding="utf-8")
    assert "imported 1 agenda item(s)" in cli("agenda", "import", str(csv_file)).output
    db.rollback()
    assert db.scalar(select(func.count()).select_from(AssemblySession)) == 1  # appended to the same session
    from_csv = db.scalar(select(AgendaItem).where(AgendaItem.title == "วาระจาก CSV"))
    assert from_csv.position == 3 and from_csv.custom_options == ["ใช่", "ไม่ใช่"] and from_csv.abstain_index is None

    # An open ballot's export lists who voted what.
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    choose = items[1]
    choose.opens_at, choose.closes_at = utcnow() - timedelta(minutes=1), utcnow() + timedelta(hours=1)
    db.commit()
    open_item(services, db, choose)
    cast(delegate, "สวัสดิการ")
    data = json.loads(cli("agenda", "results", str(choose.id)).output)
    assert data["votes"] == [{"line_user_id": delegate.user_id, "name": "ผู้แทน เหนือหนึ่ง", "choice": "สวัสดิการ"}]
    assert data["options"][1]["votes"] == 1 and data["final"] is False
    csv_out = cli("agenda", "results", str(choose.id), "--format", "csv").output.splitlines()
    assert csv_out[0] == "item_id,region,region_name,eligible,voted,ที่ดิน,สวัสดิการ,งดออกเสียง,quorum_met,outcome"
    assert csv_out[1] == f"{choose.id},all,,1,1,0,1,0,True,passed"


def test_delegates_check(cli, db, chat):
    make_delegates(chat, db, DELEGATES)
    double = db.scalar(select(Member).where(Member.line_user_id == DELEGATES[0][0]))
    some_group = db.scalar(select(ProvinceGroup.code).order_by(ProvinceGroup.id))
    grant(db, double, Role.DELEGATE, f"group:{some_group}")
    national = Member(line_user_id="U" + "7" * 32, full_name="ผู้แทนไม่มีที่นั่ง")
    db.add(national)
    db.flush()
    grant(db, national, Role.DELEGATE, "national")
    db.commit()
    out = cli("delegates", "check").output
    assert "province 50" in out and "3/3  ok" in out.split("province 50")[1].splitlines()[0]
    assert "province 10" in out and "1/3  MISSING" in out.split("province 10")[1].splitlines()[0]
    assert f"member {double.id} (ผู้แทน เหนือหนึ่ง) holds 2 seats" in out
    assert "ผู้แทนไม่มีที่นั่ง" in out and "not a seat" in out
    assert "seats filled: 6/" in out


def test_menu_offers_voting_to_delegates_and_the_assembly_to_the_secretariat(chat, db):
    secretariat = make_secretariat(chat, db)
    leader = register(chat, user_id=OUTSIDER, name="แกนนำ ผู้แทน")
    leader.say("เมนู")
    assert "ลงคะแนน" not in leader.chips()
    grant(db, db.scalar(select(Member).where(Member.line_user_id == OUTSIDER)), Role.DELEGATE, "province:50")
    db.commit()
    leader.say("เมนู")
    assert "ลงคะแนน" in leader.chips() and "สมัชชา" not in leader.chips()
    secretariat.say("เมนู")
    assert "สมัชชา" in secretariat.chips()


def test_long_ballots_fit_line_limits(chat, db, services, emulator, monkeypatch):
    """Ten open items with 1,000-character Thai descriptions and ten 40-character options each:
    every push and the "my ballots" carousel stay within LINE's sizes (the emulator checks)."""
    monkeypatch.setattr(emulator, "quota_limit", None)
    (delegate,) = make_delegates(chat, db, DELEGATES[:1])
    options = [f"ทางเลือกที่ {n} " + "ก" * (40 - len(f"ทางเลือกที่ {n} ")) for n in range(10)]
    for n in range(10):
        item = make_item(db, title=f"วาระยาว {n} " + "ข" * 180, description="ค" * 1000, custom_options=options,
                         abstain_index=None)
        open_item(services, db, item)
    delegate.say("บัตรของฉัน")
    carousel = delegate.last_message()
    shown = len(carousel["contents"]["contents"])
    assert 1 <= shown < 10 and f"แสดง {shown} ใบ" in delegate.last_text()
    cast(delegate, options[9])
    assert "บันทึกคะแนนแล้ว" in delegate.last_text() and options[9] in delegate.last_text()


def test_ballots_speak_each_delegates_language(chat, db, services):
    (thai_speaker, english_speaker) = make_delegates(chat, db, DELEGATES[:2])
    db.scalar(select(Member).where(Member.line_user_id == english_speaker.user_id)).locale = "en"
    db.commit()
    item = make_item(db)
    open_item(services, db, item)
    keys = sorted(db.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "vote.ballot")))
    assert keys == [f"vote:{item.id}:ballot:en#1", f"vote:{item.id}:ballot:th#1"]
    cast(english_speaker, "Reject")
    assert "Your vote is recorded" in english_speaker.last_text() and "Reject" in english_speaker.last_text()
    cast(thai_speaker, "ไม่เห็นด้วย")
    assert votes_of(db, item) == [0, 2, 0]  # the same option, whatever the language of its label
