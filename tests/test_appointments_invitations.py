"""Invitations are not taken by a typed phone: code-only for the secretariat and admin, phone
match at a first registration only (the inviter sees the name, and can undo), the inviter's power
checked again when the invitation is taken, nobody takes their own."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import appointments
from bot.models import AuditVia, Invitation, Role, RoleGrant
from bot.roles import revoke
from bot.scopes import Scope

from .helpers import member_of, register, staff, tap_edit

SEC = "U" + "5" * 32
COORD = "U" + "c" * 32
STRANGER = "U" + "7" * 32
INVITEE = "U" + "8" * 32
NATIONAL = Scope.parse("national")
CHIANG_MAI = Scope.parse("province:50")


def grants_of(db, user_id):
    db.rollback()
    return sorted((g.role, g.scope) for g in member_of(db, user_id).roles)


def test_an_admin_invitation_needs_its_code_a_phone_gives_nothing(chat, db, frozen_now):
    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    secretariat.say("แต่งตั้ง")
    secretariat.say("089-222-3333")
    assert "รหัสเชิญเท่านั้น" in secretariat.last_text()
    secretariat.tap("เชิญเบอร์นี้")
    secretariat.tap("ผู้ดูแลระบบ")
    if "ทั้งประเทศ" in secretariat.chips():
        secretariat.tap("ทั้งประเทศ")
    secretariat.tap("บันทึก")
    invitation = db.scalar(select(Invitation))
    # Code only: the phone is not kept to match, and the secretariat is told to pass the code on.
    assert invitation.role is Role.ADMIN and invitation.phone is None
    assert " ".join(invitation.code) in secretariat.last_text()
    assert "กรุณาบอกรหัสนี้กับผู้ได้รับเชิญด้วยตัวเอง" in secretariat.last_text()

    # A stranger registering with that phone gets their own leader role, nothing more.
    register(chat, user_id=STRANGER, name="คน แปลกหน้า", phone="0892223333")
    assert grants_of(db, STRANGER) == [(Role.LEADER, "province:50")]
    assert db.scalar(select(Invitation.accepted_at)) is None

    # The person given the code gets the role.
    invitee = register(chat, user_id=INVITEE, name="ผู้ดูแล ตัวจริง", phone="0893334444")
    invitee.say(invitation.code)
    assert "ผู้ดูแลระบบ" in invitee.last_text()
    assert (Role.ADMIN, "national") in grants_of(db, INVITEE)


def test_an_old_secretariat_invitation_with_a_phone_still_never_attaches_by_phone(chat, db, frozen_now):
    staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    # Made before invitations for these roles dropped their phone.
    db.add(Invitation(code="ACDEFH", phone="0892223333", role=Role.SECRETARIAT, scope_kind=NATIONAL.kind,
                      scope_code=NATIONAL.code, confirmed=True, invited_by_id=member_of(db, SEC).id,
                      created_at=frozen_now, expires_at=frozen_now + appointments.timedelta(days=30)))
    db.commit()
    register(chat, user_id=STRANGER, name="คน แปลกหน้า", phone="0892223333")
    assert grants_of(db, STRANGER) == [(Role.LEADER, "province:50")]


def test_changing_ones_phone_to_an_invited_number_takes_nothing(chat, db, frozen_now):
    staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    outcome = appointments.appoint(db, member_of(db, COORD), role=Role.COORDINATOR, scope=CHIANG_MAI,
                                   via=AuditVia.CHAT, now=frozen_now, phone="0892223333")
    assert outcome.done is appointments.Done.INVITED
    db.commit()
    someone = register(chat, user_id=STRANGER, name="คน เดิม", phone="0895556666")
    someone.say("ข้อมูลของฉัน")
    someone.tap("แก้ไขข้อมูล")
    tap_edit(someone, "phone")
    someone.say("0892223333")
    someone.tap("บันทึก")
    assert "บันทึกข้อมูลใหม่" in someone.last_text()
    assert grants_of(db, STRANGER) == [(Role.LEADER, "province:50")]
    assert db.scalar(select(Invitation.accepted_at)) is None


def test_the_inviter_sees_who_registered_and_removes_the_role_in_two_taps(chat, db, frozen_now):
    coordinator = staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    appointments.appoint(db, member_of(db, COORD), role=Role.COORDINATOR, scope=CHIANG_MAI, via=AuditVia.CHAT,
                         now=frozen_now, phone="0892223333")
    db.commit()
    register(chat, user_id=STRANGER, name="ไม่ใช่ คนนั้น", phone="0892223333")
    assert (Role.COORDINATOR, "province:50") in grants_of(db, STRANGER)
    told = coordinator.all_messages()[-1]
    assert told["_via"] == "push" and "ไม่ใช่ คนนั้น ลงทะเบียนแล้ว" in told["text"]
    assert "ถอดบทบาทนี้" in coordinator.chips()
    coordinator.tap("ถอดบทบาทนี้")
    assert coordinator.sees("ตรวจสอบก่อนถอดถอนค่ะ", "ไม่ใช่ คนนั้น", "ผู้ประสานงาน · จังหวัดเชียงใหม่")
    coordinator.tap("บันทึก")
    assert "ถอดถอนบทบาทผู้ประสานงาน" in coordinator.last_text()
    assert grants_of(db, STRANGER) == [(Role.LEADER, "province:50")]
    # The button again, once removed: said kindly, with something to tap.
    coordinator.postback(told["quickReply"]["items"][0]["action"]["data"])
    assert "ถูกถอดไปแล้ว" in coordinator.last_text() and coordinator.chips()


def test_a_code_from_an_inviter_who_lost_the_power_is_refused_kindly(chat, db, frozen_now):
    staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    coordinator = member_of(db, COORD)
    outcome = appointments.appoint(db, coordinator, role=Role.COORDINATOR, scope=CHIANG_MAI, via=AuditVia.CHAT,
                                   now=frozen_now, by_code=True)
    revoke(db, coordinator, Role.COORDINATOR, "province:50")  # dismissed since
    db.commit()
    invitee = register(chat, user_id=INVITEE, name="ผู้ได้รับ เชิญ", phone="0893334444")
    invitee.say(outcome.invitation.code)
    assert "ไม่มีสิทธิ์แต่งตั้งบทบาทนี้แล้ว" in invitee.last_text() and invitee.chips()
    assert grants_of(db, INVITEE) == [(Role.LEADER, "province:50")]
    assert db.scalar(select(Invitation.accepted_at)) is None
    # An operator's invitation (no inviter) stands.
    made = appointments.appoint(db, None, role=Role.COORDINATOR, scope=CHIANG_MAI, via=AuditVia.CLI,
                                now=frozen_now, by_code=True)
    db.commit()
    invitee.say(made.invitation.code)
    assert (Role.COORDINATOR, "province:50") in grants_of(db, INVITEE)


def test_nobody_takes_their_own_invitation(chat, db, frozen_now):
    coordinator = staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    outcome = appointments.appoint(db, member_of(db, COORD), role=Role.DELEGATE, scope=CHIANG_MAI,
                                   via=AuditVia.CHAT, now=frozen_now, by_code=True)
    db.commit()
    coordinator.say(outcome.invitation.code)
    assert "คำเชิญที่คุณสร้างเอง" in coordinator.last_text()
    db.rollback()
    assert db.scalar(select(Invitation.claimed_by_id)) is None
    assert db.scalar(select(RoleGrant.id).where(RoleGrant.role == Role.DELEGATE)) is None


def test_a_coordinator_withdraws_nominations_not_the_national_offices_confirmed_seats(chat, db, frozen_now):
    staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    staff(chat, db, COORD, Role.COORDINATOR, "province:50", phone="0812345671")
    other = staff(chat, db, INVITEE, Role.COORDINATOR, "province:50", phone="0812345672")
    coordinator = member_of(db, COORD)
    confirmed = appointments.appoint(db, member_of(db, SEC), role=Role.DELEGATE, scope=CHIANG_MAI,
                                     via=AuditVia.CHAT, now=frozen_now, phone="0892220001").invitation
    imported = appointments.appoint(db, None, role=Role.DELEGATE, scope=CHIANG_MAI, via=AuditVia.IMPORT,
                                    now=frozen_now, phone="0892220002").invitation
    nominated = appointments.appoint(db, member_of(db, INVITEE), role=Role.DELEGATE, scope=CHIANG_MAI,
                                     via=AuditVia.CHAT, now=frozen_now, phone="0892220003").invitation
    db.commit()
    assert confirmed.confirmed and imported.confirmed and not nominated.confirmed
    assert not appointments.may_withdraw(db, coordinator, confirmed)
    assert not appointments.may_withdraw(db, coordinator, imported)
    assert appointments.may_withdraw(db, coordinator, nominated)  # a fellow coordinator's nomination
    assert [i.id for i in appointments.open_invitations(db, coordinator, frozen_now)] == [nominated.id]
    with pytest.raises(appointments.Refused) as refused:
        appointments.withdraw(db, coordinator, confirmed, via=AuditVia.CHAT, now=frozen_now)
    assert refused.value.why is appointments.Why.NOT_ALLOWED
    assert confirmed.withdrawn_at is None
    # The national office withdraws any of them; the coordinator who made one, their own.
    assert appointments.may_withdraw(db, member_of(db, SEC), imported)
    assert appointments.may_withdraw(db, member_of(db, INVITEE), nominated)
    other.say("คำเชิญ")
    assert other.sees(" ".join(nominated.code)) and not other.sees(" ".join(confirmed.code))


def test_dismiss_finds_a_removable_person_ranked_after_nine_who_are_not(chat, db, frozen_now):
    from .helpers import registered

    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    # Ten people named บุญ...; only the last in rank order holds a role the secretariat may remove.
    people = [registered(db, f"U{i:032d}", f"บุญ{chr(0x0e01 + i)} ทดสอบ", f"08911100{i:02d}") for i in range(10)]
    target = people[-1]
    appointments.appoint(db, member_of(db, SEC), role=Role.COORDINATOR, scope=CHIANG_MAI, via=AuditVia.CHAT,
                         now=frozen_now, member=target)
    db.commit()
    ranked = appointments.find_people(db, member_of(db, SEC), "บุญ", limit=None)
    assert ranked.index(target) >= 9  # would have been cut by the nine-result limit
    secretariat.say("ถอดถอน")
    secretariat.say("บุญ")
    assert secretariat.sees(f"1. {target.full_name}")
    assert "ไม่พบผู้ที่" not in secretariat.last_text()
