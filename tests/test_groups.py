"""Binding group chats: who may, to which scopes, what a group receives, and unbinding."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import BoundGroup, Member, Role
from bot.roles import grant
from bot.postback import encode as pb, parse as parse_pb

from .chat import Group, actions_in, texts_in
from .helpers import group_postback, person

GID = "C" + "a" * 32
BOSS = "U" + "b" * 32
OTHER = "U" + "c" * 32


def bound(db) -> BoundGroup | None:
    db.commit()  # end the read snapshot: the webhook wrote in its own transaction
    db.expire_all()
    return db.scalar(select(BoundGroup).where(BoundGroup.line_group_id == GID))


def group_actions(group: Group) -> dict[str, str]:
    return {a["label"]: a["data"] for m in group.replies() for a in actions_in(m) if a.get("type") == "postback"}


ROLES = [None, Role.LEADER, Role.DELEGATE, Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN]
GRANTS = ["national", "region:north", "group:lanna_west", "province:50"]
TARGETS = ["national", "region:north", "region:isan_upper", "group:lanna_west", "group:lanna_east",
           "province:50", "province:57", "province:40"]
INSIDE = {  # grant scope → target scopes it contains
    "national": set(TARGETS),
    "region:north": {"region:north", "group:lanna_west", "group:lanna_east", "province:50", "province:57"},
    "group:lanna_west": {"group:lanna_west", "province:50"},
    "province:50": {"province:50"},
}


@pytest.mark.parametrize("scope", GRANTS)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "none")
def test_binding_authorization_every_role_and_scope(chat, db, role, scope):
    member = person(db, BOSS)
    if role is not None:
        grant(db, member, role, scope)
    db.commit()
    group = chat.group(GID, "เลขาภาคเหนือ")
    group.join()
    group.say(BOSS, "ผูกกลุ่ม")
    may_bind = role in (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)
    if not may_bind:
        assert "เฉพาะกองเลขาหรือผู้ประสานงาน" in group.last_text()
        assert not group_actions(group)
    else:
        offered = {parse_pb(data)["s"] for data in group_actions(group).values()}
        assert scope in offered
        assert offered & set(TARGETS) <= INSIDE[scope]
    # Whatever the buttons offered, a forged tap for any scope is checked against the roles.
    for target in TARGETS:
        group_postback(group, BOSS, pb(a="gbind", s=target))
        row = bound(db)
        allowed = may_bind and target in INSIDE[scope]
        if allowed:
            assert row is not None and row.scope == target, (role, scope, target)
            assert row.name == "เลขาภาคเหนือ"  # from LINE's group summary
            assert "ผูกกลุ่มกับ" in group.last_text()
        else:
            assert row is None or row.scope != target, (role, scope, target)
            assert "ขออภัยค่ะ" in group.last_text()
        if row is not None:  # start each target unbound
            group.say(BOSS, "ยกเลิกผูกกลุ่ม")
            assert bound(db) is None


def test_offered_scopes_are_the_grant_and_one_level_inside(chat, db):
    member = person(db, BOSS)
    grant(db, member, Role.COORDINATOR, "group:lanna_west")
    db.commit()
    group = chat.group(GID)
    group.say(BOSS, "bind")
    labels = set(group_actions(group))
    assert {"ล้านนาตะวันตก", "เชียงใหม่", "ลำพูน", "ลำปาง", "แม่ฮ่องสอน"} <= labels
    assert "เชียงราย" not in labels


def test_settings_toggles_language_unbind_and_outsiders(chat, db):
    boss = person(db, BOSS)
    grant(db, boss, Role.SECRETARIAT, "region:north")
    person(db, OTHER)  # a registered leader in the same group, without a role
    db.commit()
    group = chat.group(GID, "กลุ่มเลขา")
    group.say(BOSS, "ผูกกลุ่ม")
    group_postback(group, BOSS, group_actions(group)["ภาคเหนือ"])
    row = bound(db)
    assert row.scope == "region:north" and row.daily_digest and row.weekly_digest
    assert not row.assembly_results and not row.certification_requests
    assert "กลุ่มเลขา" in group.last_text()

    group_postback(group, BOSS, pb(a="gset", k="results"))
    group_postback(group, BOSS, pb(a="gset", k="daily"))
    row = bound(db)
    assert row.assembly_results and not row.daily_digest

    # Someone without a role taps the same buttons or types the commands: refused, nothing changes.
    for action in (pb(a="gset", k="weekly"), pb(a="gbind", s="national"), pb(a="gbind", s="province:50")):
        group_postback(group, OTHER, action)
        assert "ขออภัยค่ะ" in group.last_text()
    group.say(OTHER, "ยกเลิกผูกกลุ่ม")
    assert "ขออภัยค่ะ" in group.last_text()
    row = bound(db)
    assert row.weekly_digest and row.scope == "region:north"

    # A province coordinator inside the region may not take over (narrow) the region's group.
    other = db.scalar(select(Member).where(Member.line_user_id == OTHER))
    grant(db, other, Role.COORDINATOR, "province:50")
    db.commit()
    group_postback(group, OTHER, pb(a="gbind", s="province:50"))
    assert bound(db).scope == "region:north"

    group_postback(group, BOSS, pb(a="gset", k="lang"))
    assert bound(db).locale == "en"
    assert "Daily digest" in group.last_text()
    group.say(BOSS, "unbind")
    assert bound(db) is None
    assert "unbound" in group.last_text()


def test_the_bot_leaving_unbinds(chat, db):
    boss = person(db, BOSS)
    grant(db, boss, Role.COORDINATOR, "province:50")
    db.commit()
    group = chat.group(GID)
    group.join()
    group_postback(group, BOSS, pb(a="gbind", s="province:50"))
    assert bound(db) is not None
    group.leave()
    assert bound(db) is None


def test_unregistered_or_erased_members_are_refused(chat, db):
    boss = person(db, BOSS, registered=False)
    grant(db, boss, Role.SECRETARIAT, "national")
    db.commit()
    group = chat.group(GID)
    group.say(BOSS, "ผูกกลุ่ม")
    assert "ขออภัยค่ะ" in group.last_text()
    group.say(BOSS, "สรุป")
    assert "ยังไม่ได้ผูก" in group.last_text()


def test_group_messages_never_carry_personal_data(chat, db):
    boss = person(db, BOSS)
    grant(db, boss, Role.SECRETARIAT, "national")
    db.commit()
    group = chat.group(GID)
    group.join()
    group.say(BOSS, "ผูกกลุ่ม")
    group_postback(group, BOSS, pb(a="gbind", s="national"))
    group.say(BOSS, "สรุป")
    blob = "\n".join(t for m in chat.emulator.messages_for(GID) for t in texts_in(m))
    for personal in ("สมชาย", "0812345678", BOSS):
        assert personal not in blob


@pytest.mark.parametrize("bound_first", [False, True], ids=["unbound", "bound"])
def test_a_refusal_in_a_group_is_one_short_line_without_personal_data(chat, db, bound_first):
    """Someone without the role (registered or not) types a group command or taps a group button:
    one short line of text, no card, no chips, nobody's name or phone; never silence either."""
    from bot.handlers import build_router

    boss = person(db, BOSS)
    grant(db, boss, Role.SECRETARIAT, "national")
    person(db, OTHER)  # registered, no role ("สมชาย ใจงาม", 0812345678)
    db.commit()
    group = chat.group(GID, "กลุ่มเลขา")
    if bound_first:
        group_postback(group, BOSS, pb(a="gbind", s="national"))
        assert bound(db) is not None
    stranger = "U" + "9" * 32  # never wrote to the bot: not a member at all
    router = build_router()
    guarded = [key for key in router.group_commands if key not in ("group_help", "group_summary")]
    assert set(guarded) == {"group_bind", "group_unbind", "group_who_goes"}
    for who in (OTHER, stranger):
        for key in guarded:
            for word in router.group_commands[key].words[:2]:
                group.say(who, word)
                replies = group.replies()
                assert len(replies) == 1 and replies[0]["type"] == "text", (who, word, replies)
                line = replies[0]["text"]
                assert "\n" not in line and len(line) <= 120, (who, word, line)
                assert not replies[0].get("quickReply"), (who, word)
                for personal in ("สมชาย", "ใจงาม", "0812345678", OTHER, stranger):
                    assert personal not in line
        for data in (pb(a="gset", k="weekly"), pb(a="gbind", s="national")):
            group_postback(group, who, data)
            (reply,) = group.replies()
            assert reply["type"] == "text" and "\n" not in reply["text"] and not reply.get("quickReply")
    assert bound(db) is None or bound(db).scope == "national"


def test_a_group_without_a_name_is_called_this_group(chat, db):
    boss = person(db, BOSS)
    grant(db, boss, Role.SECRETARIAT, "national")
    db.commit()
    group = chat.group(GID, "")
    group_postback(group, BOSS, pb(a="gbind", s="national"))
    text = group.last_text()
    assert "กลุ่มนี้" in text and "กลุ่ม นี้" not in text
