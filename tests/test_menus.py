"""One name per button: the rich menu's tiles, the text menu's chips and help's lines agree, and
"ลงคะแนน" answers someone who is not a delegate with what it is for and whom to ask."""
from __future__ import annotations

from typing import Any

import pytest

from bot import menus, richmenu
from bot.handlers import build_router
from bot.i18n import _, use_locale
from bot.models import Role
from bot.roles import grant

from .helpers import person

U1 = "U" + "a" * 32
U2 = "U" + "b" * 32


def th(key: str, **params: Any) -> str:
    with use_locale("th"):
        return _(key, **params)


def help_labels(text: str) -> list[str]:
    """The button names help lists: its lines "• <label> — <what it does>"."""
    return [line[2:].split(" — ")[0] for line in text.splitlines() if line.startswith("• ")]


def test_every_menu_entry_is_a_command_with_a_chip_sized_name():
    commands = build_router().commands
    for entry in menus.ENTRIES.values():
        assert entry.command in commands, entry.command
        for locale in ("th", "en"):
            with use_locale(locale):
                assert 0 < len(_(entry.label_id)) <= 20, (locale, entry.label_id)
                assert _(entry.help_id), (locale, entry.help_id)
    assert set(menus.RICH_MENU) <= set(menus.ENTRIES) and len(menus.RICH_MENU) == 6


def test_every_button_name_typed_finds_its_command():
    """Help says "tap a button, or type its name": each label, typed, is its command."""
    router = build_router()
    for entry in menus.ENTRIES.values():
        for locale in ("th", "en"):
            with use_locale(locale):
                name = _(entry.label_id)
            found = router.find_command(name)
            assert found is not None and found.key == entry.command, (locale, name)


@pytest.mark.parametrize("locale", ["th", "en"])
def test_rich_menu_tiles_use_the_menus_names(locale):
    with use_locale(locale):
        names = [_(menus.ENTRIES[c].label_id) for c in menus.RICH_MENU]
    areas = richmenu.menu_request(locale).areas
    assert [a.action.display_text for a in areas] == names
    assert [richmenu.label(b, locale) for b in richmenu.BUTTONS] == names


def test_help_lists_the_rich_menu_then_the_persons_own_chips_by_their_button_names(chat, db):
    rich = [th(menus.ENTRIES[c].label_id) for c in menus.RICH_MENU]

    newcomer = chat.user(U1)
    newcomer.follow()
    newcomer.say("ช่วยเหลือ")
    listed = help_labels(newcomer.last_message()["text"])
    assert listed[:6] == rich
    assert set(newcomer.chips()) <= set(listed)
    assert "บัตรของฉัน" not in newcomer.last_text() and "ประชุม" in listed

    # A coordinator who is also a delegate has more chips; help names every one of them, once.
    member = person(db, U2)
    grant(db, member, Role.COORDINATOR, "province:50")
    grant(db, member, Role.DELEGATE, "province:50")
    db.commit()
    leader = chat.user(U2)
    leader.postback("cmd=help")
    listed = help_labels(leader.last_message()["text"])
    chips = leader.chips()
    assert listed == rich + [c for c in chips if c not in rich]
    assert th("menu.pending_orgs") in listed and th("menu.new_meeting") in listed
    # The menu itself shows the same chips.
    leader.say("เมนู")
    assert leader.chips() == chips


def test_vote_for_a_registered_non_delegate_says_who_votes_and_whom_to_ask(chat, db):
    person(db, U1)  # in Chiang Mai (province 50), no role
    db.commit()
    leader = chat.user(U1)
    for how in (lambda: leader.postback("cmd=my_ballots"), lambda: leader.say("ลงคะแนน")):
        how()
        assert leader.last_message()["text"] == th("vote.not_a_delegate", province="เชียงใหม่")
        assert th("menu.my_info") in leader.chips() and th("menu.meetings") in leader.chips()


def test_vote_for_a_newcomer_explains_and_offers_registration(chat):
    newcomer = chat.user(U1)
    newcomer.follow()
    newcomer.postback("cmd=my_ballots")
    assert newcomer.last_message()["text"] == th("vote.not_a_delegate_no_province")
    assert th("menu.register") in newcomer.chips()


def test_vote_for_a_delegate_without_ballots_says_none_are_open(chat, db):
    member = person(db, U1)
    grant(db, member, Role.DELEGATE, "province:50")
    db.commit()
    delegate = chat.user(U1)
    delegate.postback("cmd=my_ballots")
    assert delegate.last_message()["text"] == th("vote.no_ballots")


def test_someone_holding_every_role_still_gets_a_menu_line_allows(chat, db, emulator):
    """An admin who is also a delegate, coordinator and secretariat, with an organization to report
    for, has more things to do than LINE's 13 quick replies: the menu still fits (language, also in
    ข้อมูลของฉัน, gives way), and help and the menu agree."""
    from .helpers import make_org

    member = person(db, U2)
    for role, scope in ((Role.ADMIN, "national"), (Role.SECRETARIAT, "national"), (Role.COORDINATOR, "province:50"),
                        (Role.DELEGATE, "province:50")):
        grant(db, member, role, scope)
    db.commit()
    make_org(db, U2, "กลุ่มออมทรัพย์ทดสอบ")
    everyone = chat.user(U2)
    everyone.say("เมนู")
    chips = everyone.chips()
    assert len(chips) == 13 and th("menu.language") not in chips
    assert {th("menu.report"), th("menu.appoint"), th("menu.console"), th("menu.help")} <= set(chips)
    everyone.postback("cmd=help")
    assert everyone.chips() == chips
    everyone.say("ภาษา")  # still one typed word away
    assert "ภาษา" in everyone.last_text() or "Language" in everyone.last_text()
