"""LINE reads happen before the event's transaction: a slow LINE never holds the person's row lock
(nor, on SQLite, the write lock), and a LINE that fails or times out only makes answers poorer."""
from __future__ import annotations

import threading
import time

from sqlalchemy import select

from bot.emulator import events as ev
from bot.models import BoundGroup, Member, PhotoStatus, ReportPhoto, Role
from bot.postback import encode as pb
from bot.roles import grant

from .helpers import U1, answer_until_photos, group_postback, make_org, person, register

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
GID = "C" + "e" * 32
BOSS = "U" + "e" * 32
SLOW = 2.0  # seconds LINE takes to answer below; within the port's timeouts


def fresh(db, model, *where):
    db.commit()  # end the read snapshot: the webhook wrote in its own transactions
    db.expire_all()
    return db.scalar(select(model).where(*where))


def test_a_slow_photo_download_does_not_make_the_next_event_wait(chat, db, emulator):
    leader = register(chat)
    make_org(db, U1, "ออมทรัพย์บ้านดอน")
    answer_until_photos(leader, org=None)
    emulator.add_content("m-slow", JPEG, "image/jpeg")
    emulator.fail_next("/v2/bot/message/m-slow/content", status=0, delay=SLOW)  # slow, then answers
    photo_event = ev.image_event(U1, "m-slow", emulator.issue_reply_token(U1))
    statuses: list[int] = []
    first = threading.Thread(target=lambda: statuses.append(chat.post([photo_event]).status_code))
    first.start()
    time.sleep(0.4)  # the photo's event is now waiting on LINE
    started = time.monotonic()
    response = chat.post([ev.text_event(U1, "สวัสดีค่ะ", emulator.issue_reply_token(U1))])
    waited = time.monotonic() - started
    first.join()
    assert response.status_code == 200 and statuses == [200]
    # Before: the download ran inside the photo event's transaction, and this event waited for it.
    assert waited < SLOW / 2, f"the second event waited {waited:.2f}s for LINE"
    photo = fresh(db, ReportPhoto, ReportPhoto.line_message_id == "m-slow")
    assert photo.status is PhotoStatus.STORED  # and the slow photo still arrived


def test_consent_asks_line_for_the_profile_and_nothing_else_does(chat, db, emulator):
    register(chat)
    profile_calls = [r for r in emulator.requests if r.path.startswith("/v2/bot/profile/")]
    assert len(profile_calls) == 1  # the consent tap only, not follow, typing, or other taps
    assert not [r for r in emulator.requests if "/content" in r.path or "/quota" in r.path]
    assert fresh(db, Member, Member.line_user_id == U1).display_name == "สมศรี"


def test_a_profile_lookup_that_times_out_only_loses_the_display_name(chat, db, emulator):
    leader = chat.user(U1)
    leader.follow()
    emulator.fail_next(f"/v2/bot/profile/{U1}", status=0, delay=3.5)  # past the port's read timeout
    started = time.monotonic()
    leader.tap("ยินยอม")
    assert time.monotonic() - started < 3.5  # the short timeout, not LINE, decided how long
    assert "ขออภัย" not in leader.last_text()  # no error reply: registration simply starts
    assert "ชื่อ" in leader.last_text()
    member = fresh(db, Member, Member.line_user_id == U1)
    assert member.consent_at is not None and member.display_name is None


def test_a_failed_group_summary_binds_the_group_under_a_generic_name(chat, db, emulator):
    boss = person(db, BOSS)
    grant(db, boss, Role.COORDINATOR, "province:50")
    db.commit()
    group = chat.group(GID, name="ชาวบ้านดอน")
    group.join()
    emulator.fail_next(f"/v2/bot/group/{GID}/summary", status=500)
    group_postback(group, BOSS, pb(a="gbind", s="province:50"))
    assert "ขออภัย" not in group.last_text()
    assert fresh(db, BoundGroup, BoundGroup.line_group_id == GID).name == ""
    assert "กลุ่มนี้" in "\n".join(str(m) for m in group.replies())
