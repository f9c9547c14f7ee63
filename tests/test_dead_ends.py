"""No dead ends in a 1:1 chat: every reply ends with something to tap.

Older leaders on cheap phones do not type commands; a reply with nothing to tap leaves them
stuck. These tests walk many journeys and check the last message of EVERY reply the bot sent
the person: it must carry quick-reply chips or a card with buttons.
"""
from __future__ import annotations

from datetime import timedelta

from bot.dispatch import Dispatcher
from tests.chat import actions_in, texts_in
from tests.clock import FROZEN_NOW
from tests.helpers import U1, U2, make_org, register


class Watched:
    """A chat user whose every reply is checked for a way forward."""

    def __init__(self, user) -> None:
        self.user = user
        self.dead_ends: list[str] = []
        self.replies: list[list[dict]] = []

    def _check(self, what: str) -> None:
        replies = self.user.replies()
        self.replies.append(replies)
        if replies and not actions_in(replies[-1]):
            self.dead_ends.append(f"{what} -> {' | '.join(texts_in(replies[-1]))}")

    def __getattr__(self, name):
        attr = getattr(self.user, name)
        if name not in ("follow", "say", "tap", "postback", "sticker", "location", "image", "pick_date"):
            return attr

        def act(*args, **kwargs):
            attr(*args, **kwargs)
            self._check(f"{name}{args}")
        return act


def _registered(chat) -> Watched:
    register(chat)  # the registration itself is walked in test_registration_journey
    return Watched(chat.user(U1))


def test_registration_journey_has_no_dead_end(chat):
    me = Watched(chat.user(U2))
    me.follow()
    me.say("สวัสดีค่ะ")
    me.say("อะไรก็ได้")
    me.sticker()
    me.postback("a=consent&v=yes")
    me.say("สมศรี ใจดี")
    me.tap("ย้อนกลับ")
    me.say("สมศรี ใจดี")
    me.say("ไม่ใช่เบอร์โทร")  # bad input: asked again
    me.say("081-234-5678")
    me.say("ยกเลิก")  # cancel mid-flow
    me.say("ยกเลิก")  # cancel with nothing under way
    me.postback("c=back")
    me.postback("f=register&s=phone&v=x")  # a stale step button
    me.say("ลงทะเบียน")
    assert me.dead_ends == []


def test_greetings_get_a_greeting_and_the_menu(chat):
    me = _registered(chat)
    for hello in ("สวัสดีค่ะ", "สวัสดีครับ", "หวัดดี", "hello", "สวัสดี", "Hi"):
        me.say(hello)
        text = me.user.last_text()
        assert "ไม่เข้าใจ" not in text, hello
        assert "สวัสดีค่ะ" in text, (hello, text)
        assert "ข้อมูลของฉัน" in me.user.chips(), hello
    assert me.dead_ends == []


def test_registered_journeys_have_no_dead_end(chat, db):
    me = _registered(chat)
    make_org(db, U1, "กลุ่มออมทรัพย์บ้านแม่แฝก")
    me.say("ฉันอยากรู้อะไรสักอย่าง")  # unknown text
    me.sticker()
    me.location()
    me.postback("cmd=my_info")
    me.postback("cmd=help")
    me.postback("cmd=menu")
    me.say("รายงานกิจกรรม")  # report start, then cancel
    me.tap("ยกเลิก")
    me.say("รายงานกิจกรรม")
    me.say("ย้อนกลับ")  # back at the first step
    me.say("ยกเลิก")
    me.postback("c=resume")  # nothing under way
    me.postback("a=vote&b=nosuchballot&o=0")  # a ballot that does not exist
    me.postback("a=vote.close&id=999999")  # not the secretariat
    me.postback("a=report.edit&id=999999")  # not theirs
    me.postback("a=nonsense")  # a forged tap
    me.postback("cmd=nosuchcommand")
    me.postback("a=erase.ask")
    me.postback("a=erase.keep")
    me.postback("cmd=language")
    me.postback("a=lang&v=th")
    assert me.dead_ends == []


def test_an_expired_conversation_offers_resume_once(chat, db, clock_at):
    me = _registered(chat)
    make_org(db, U1, "กลุ่มออมทรัพย์บ้านแม่แฝก")
    me.say("รายงานกิจกรรม")
    assert me.user.last_text() and "ยกเลิก" in me.user.chips()
    clock_at.move_to(FROZEN_NOW + timedelta(days=3))
    me.say("ประชุม")
    assert "ทำต่อ" in me.user.chips()  # the offer, once
    me.say("สวัสดีค่ะ")  # not taken up: the old conversation is dropped, the message handled
    assert "ทำต่อ" not in me.user.chips()
    assert "สวัสดีค่ะ" in me.user.last_text()
    me.say("ยกเลิก")
    assert "ทำต่อ" not in me.user.chips()
    assert me.dead_ends == []


def test_an_expired_conversation_can_still_be_resumed(chat, db, clock_at):
    me = _registered(chat)
    make_org(db, U1, "กลุ่มออมทรัพย์บ้านแม่แฝก")
    me.say("รายงานกิจกรรม")
    clock_at.move_to(FROZEN_NOW + timedelta(days=3))
    me.say("ประชุม")
    me.tap("ทำต่อ")
    assert "ยกเลิก" in me.user.chips()
    me.say("ยกเลิก")
    assert "ยกเลิก" in me.user.last_text()
    assert me.dead_ends == []


def test_a_failed_event_apologizes_with_a_way_forward(chat, monkeypatch):
    me = _registered(chat)

    def boom(self, ctx, event):
        raise RuntimeError("the database blinked")
    monkeypatch.setattr(Dispatcher, "_one_to_one", boom)
    me.say("เมนู")
    assert "ขออภัย" in me.user.last_text()
    monkeypatch.undo()
    me.tap(me.user.chips()[0])
    assert me.dead_ends == []
