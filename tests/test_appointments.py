"""Appointments from LINE: find, choose, confirm, tell; seats; invitations; history."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import select

from bot import appointments
from bot.models import AuditAction, AuditEntry, AuditVia, Invitation, Role, RoleGrant, SeatNomination
from bot.scopes import Scope

from .helpers import member_of, register, registered, staff

SEC = "U" + "5" * 32
COORD = "U" + "c" * 32
NEWCOMER = "U" + "7" * 32
CHIANG_MAI_PEOPLE = [("U" + "a" * 31 + str(i), name, phone) for i, (name, phone) in enumerate([
    ("บุญมี ศรีสุข", "0891110001"), ("บุญเรือน ใจดี", "0891110002"), ("มานพ ทองดี", "0891110003"),
    ("สมพร รักถิ่น", "0891110004")])]


def grants_of(db, user_id):
    db.rollback()
    return sorted((g.role, g.scope) for g in member_of(db, user_id).roles)


def appoint(user, search: str, pick: str, role: str, area: str):
    user.say("แต่งตั้ง")
    user.say(search)
    user.tap(pick)
    user.tap(role)
    user.say(area)


def test_secretariat_seats_a_province_and_its_coordinator_from_line(chat, db, frozen_now):
    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    people = [registered(db, uid, name, phone) for uid, name, phone in CHIANG_MAI_PEOPLE]
    users = [chat.user(uid) for uid, _n, _p in CHIANG_MAI_PEOPLE]

    secretariat.say("เมนู")
    assert "แต่งตั้ง" in secretariat.chips()
    for uid, name, _phone in CHIANG_MAI_PEOPLE[:3]:
        appoint(secretariat, name.split()[0], f"1. {name}", "ผู้แทนสมัชชา", "เชียงใหม่")
        assert secretariat.sees("ตรวจสอบก่อนแต่งตั้งค่ะ", name, "ผู้แทนสมัชชา", "จังหวัดเชียงใหม่")
        secretariat.tap("บันทึก")
        assert "เรียบร้อยแล้ว" in secretariat.last_text()
        assert grants_of(db, uid) == [(Role.DELEGATE, "province:50")]

    # Each appointee got one push: what they can do now, with the button to start.
    push = users[0].all_messages()[-1]
    assert push["_via"] == "push" and len(users[0].all_messages()) == 1
    assert "คุณได้รับแต่งตั้งเป็นผู้แทนสมัชชาค่ะ" in push["altText"]
    assert users[0].action("ลงคะแนน")["data"] == "cmd=my_ballots"

    # The fourth is refused: the province's three seats are taken, and it says by whom.
    appoint(secretariat, "สมพร", "1. สมพร รักถิ่น", "ผู้แทนสมัชชา", "เชียงใหม่")
    secretariat.tap("บันทึก")
    text = secretariat.last_text()
    assert "ครบ 3 ที่แล้ว" in text and "บุญมี ศรีสุข" in text and "มานพ ทองดี" in text
    assert grants_of(db, CHIANG_MAI_PEOPLE[3][0]) == []
    secretariat.tap("ยกเลิก")

    # And the province's coordinator.
    appoint(secretariat, "089-111-0004", "1. สมพร รักถิ่น", "ผู้ประสานงาน", "เชียงใหม่")
    secretariat.tap("บันทึก")
    assert grants_of(db, CHIANG_MAI_PEOPLE[3][0]) == [(Role.COORDINATOR, "province:50")]
    assert users[3].action("แต่งตั้ง")["data"] == "cmd=appoint"

    entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.via, e.role) for e in entries] == [(AuditAction.GRANT, AuditVia.CHAT, "delegate")] * 3 + [
        (AuditAction.GRANT, AuditVia.CHAT, "coordinator")]
    assert {e.actor_id for e in entries} == {member_of(db, SEC).id}
    assert entries[0].subject_id == people[0].id


def test_coordinator_nominates_within_scope_and_the_secretariat_confirms(chat, db, frozen_now):
    coordinator = staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง", phone="0812345679")
    uid, name, _ = CHIANG_MAI_PEOPLE[0]
    registered(db, uid, name, "0891110001")
    registered(db, "U" + "4" * 32, "บุญมา ขอนแก่น", "0891110009", province="40")
    delegate = chat.user(uid)

    coordinator.say("แต่งตั้ง")
    coordinator.say("บุญ")
    # Only people in the coordinator's province are found: not the Khon Kaen namesake.
    assert coordinator.sees("1. บุญมี ศรีสุข") and not coordinator.sees("บุญมา")
    coordinator.say("1")
    assert coordinator.chips()[:3] == ["แกนนำ", "ผู้แทนสมัชชา", "ผู้ประสานงาน"]
    assert "กองเลขา" not in coordinator.chips() and "ผู้ดูแลระบบ" not in coordinator.chips()
    coordinator.tap("ผู้แทนสมัชชา")
    assert coordinator.chips()[0] == "เชียงใหม่"  # the only area inside a province coordinator's
    coordinator.tap("เชียงใหม่")
    coordinator.tap("บันทึก")
    assert "รอกองเลขายืนยัน" in coordinator.last_text()
    db.rollback()
    assert grants_of(db, uid) == []
    assert db.scalar(select(SeatNomination.confirmed_at)) is None
    assert "เสนอชื่อ" in delegate.all_messages()[-1]["altText"]

    secretariat.say("เมนู")
    secretariat.tap("ยืนยันผู้แทน")
    assert secretariat.sees("บุญมี ศรีสุข", "1 จาก 3 ที่")
    secretariat.tap("ยืนยัน")
    assert "ยืนยันคุณบุญมี ศรีสุข" in secretariat.last_text()
    assert grants_of(db, uid) == [(Role.DELEGATE, "province:50")]
    assert delegate.action("ลงคะแนน")
    actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [AuditAction.NOMINATE, AuditAction.CONFIRM]
    db.rollback()  # end the read snapshot before the bot writes again

    # Someone registered elsewhere, typed by phone: invited like a stranger, never named by the bot.
    coordinator.say("แต่งตั้ง")
    coordinator.say("089-111-0009")
    assert "ไม่พบเบอร์ 089-111-0009 ในพื้นที่ของคุณ" in coordinator.last_text()
    coordinator.tap("เชิญเบอร์นี้")
    coordinator.tap("แกนนำ")
    coordinator.tap("เชียงใหม่")
    coordinator.tap("บันทึก")
    assert "089-111-0009" in coordinator.last_text() and "บุญมา" not in coordinator.last_text()

    # A leader may not appoint at all.
    registered(db, "U" + "8" * 32, "ธรรมดา คนหนึ่ง", "0891110008")
    plain = chat.user("U" + "8" * 32)
    plain.say("แต่งตั้ง")
    assert "สำหรับผู้ประสานงานและกองเลขา" in plain.last_text()


def test_invite_by_phone_attaches_when_they_register(chat, db, frozen_now):
    coordinator = staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    coordinator.say("แต่งตั้ง")
    coordinator.say("๐๘๙ ๒๒๒ ๓๓๓๓")  # Thai digits, spaces
    assert "ไม่พบเบอร์ 089-222-3333 ในพื้นที่ของคุณ" in coordinator.last_text()
    coordinator.tap("เชิญเบอร์นี้")
    coordinator.tap("ผู้ประสานงาน")
    coordinator.tap("เชียงใหม่")
    assert coordinator.sees("เจ้าของเบอร์ 089-222-3333")
    coordinator.tap("บันทึก")
    invitation = db.scalar(select(Invitation))
    assert invitation.phone == "0892223333" and invitation.expires_at == frozen_now + timedelta(days=30)
    assert " ".join(invitation.code) in coordinator.last_text()

    newcomer = register(chat, user_id=NEWCOMER, name="ใหม่ มาแล้ว", phone="089 222 3333")
    assert grants_of(db, NEWCOMER) == [(Role.COORDINATOR, "province:50"), (Role.LEADER, "province:50")]
    pushes = [m for m in newcomer.all_messages() if m.get("_via") == "push"]
    assert len(pushes) == 1 and "ผู้ประสานงาน" in pushes[0]["altText"]
    told = coordinator.all_messages()[-1]
    assert told["_via"] == "push" and "ใหม่ มาแล้ว ลงทะเบียนแล้ว" in told["text"]
    assert db.scalar(select(Invitation.accepted_by_id)) == member_of(db, NEWCOMER).id
    assert [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
        AuditAction.INVITE, AuditAction.INVITE_ACCEPT]


def test_invitation_code_typed_before_registering(chat, db, frozen_now):
    coordinator = staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    coordinator.say("แต่งตั้ง")
    coordinator.tap("รหัสเชิญ")
    coordinator.tap("แกนนำ")
    coordinator.tap("เชียงใหม่")
    coordinator.tap("บันทึก")
    code = db.scalar(select(Invitation.code))
    assert all(ch in appointments.CODE_ALPHABET for ch in code) and len(code) == 6

    newcomer = chat.user(NEWCOMER)
    newcomer.follow()
    newcomer.say(f"{code[:3].lower()} {code[3:]}")  # read out at a meeting, typed as heard
    assert "ได้รับรหัสแล้ว" in newcomer.last_text()
    newcomer.tap("ลงทะเบียน")
    newcomer.tap("ยินยอม")
    newcomer.say("ใหม่ มาแล้ว")
    newcomer.say("0893334444")
    newcomer.say("เชียงใหม่")
    newcomer.tap("บันทึก")
    assert (Role.LEADER, "province:50") in grants_of(db, NEWCOMER)
    assert db.scalar(select(Invitation.accepted_at)) is not None

    # Single use: someone else typing it is told it does not work.
    other = chat.user("U" + "9" * 32)
    other.follow()
    other.say(code)
    assert "รหัสนี้ใช้ไม่ได้" in other.last_text()


def test_invitations_expire_and_can_be_withdrawn(chat, db, frozen_now):
    coordinator = staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    actor = member_of(db, COORD)
    old = appointments.appoint(db, actor, role=Role.LEADER, scope=Scope.parse("province:50"), via=AuditVia.CHAT,
                               now=frozen_now - timedelta(days=31), phone="0894445555")
    kept = appointments.appoint(db, actor, role=Role.LEADER, scope=Scope.parse("province:50"), via=AuditVia.CHAT,
                                now=frozen_now, phone="0894446666")
    db.commit()
    coordinator.say("คำเชิญ")
    assert coordinator.sees(" ".join(kept.invitation.code)) and not coordinator.sees(" ".join(old.invitation.code))
    coordinator.tap("ถอนคำเชิญ")
    assert "ถอนคำเชิญรหัส" in coordinator.last_text(), coordinator.last_text()
    db.rollback()
    assert db.scalar(select(Invitation.withdrawn_at).where(Invitation.id == kept.invitation.id)) is not None
    register(chat, user_id=NEWCOMER, name="ไม่ได้ รับ", phone="0894445555")  # the expired one
    register(chat, user_id="U" + "9" * 32, name="ถอน แล้ว", phone="0894446666")  # the withdrawn one
    assert grants_of(db, NEWCOMER) == [(Role.LEADER, "province:50")]  # registration's own, nothing more
    assert db.scalar(select(Invitation.accepted_at).where(Invitation.id == old.invitation.id)) is None


def test_dismiss_tells_the_person_and_history_shows_names_not_phones(chat, db, frozen_now):
    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    uid, name, phone = CHIANG_MAI_PEOPLE[0]
    member = registered(db, uid, name, phone)
    appointments.appoint(db, member_of(db, SEC), role=Role.COORDINATOR, scope=Scope.parse("province:50"),
                         via=AuditVia.CHAT, now=frozen_now, member=member)
    db.commit()
    person = chat.user(uid)

    secretariat.say("ถอดถอน")
    secretariat.say("บุญมี")
    secretariat.tap(f"1. {name}")
    assert "1. ผู้ประสานงาน · จังหวัดเชียงใหม่" in secretariat.last_text()
    secretariat.tap("1. ผู้ประสานงาน")
    assert secretariat.sees("ตรวจสอบก่อนถอดถอนค่ะ", "ผู้ประสานงาน · จังหวัดเชียงใหม่")
    secretariat.tap("ย้อนกลับ")  # back works: the role question again
    secretariat.say("1")
    secretariat.tap("บันทึก")
    assert "ถอดถอนบทบาทผู้ประสานงาน" in secretariat.last_text()
    assert grants_of(db, uid) == []
    assert "สิ้นสุดแล้ว" in person.all_messages()[-1]["text"]

    secretariat.say("ประวัติการแต่งตั้ง")
    text = secretariat.last_text()
    assert "เลขา กลาง ถอดถอน บุญมี ศรีสุข" in text and "เลขา กลาง แต่งตั้ง บุญมี ศรีสุข" in text
    assert phone not in text and "089-111-0001" not in text


def test_appoint_can_be_cancelled_and_resumes_after_a_detour(chat, db, frozen_now):
    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    uid, name, phone = CHIANG_MAI_PEOPLE[0]
    registered(db, uid, name, phone)
    secretariat.say("แต่งตั้ง")
    secretariat.say("ไม่มีใครชื่อนี้เลย")
    assert "ไม่พบชื่อนี้" in secretariat.last_text()
    secretariat.say("บุญมี")
    secretariat.tap(f"1. {name}")
    secretariat.tap("ผู้แทนสมัชชา")
    assert "ภาคเหนือ" in secretariat.chips()  # the national office chooses a region first
    secretariat.tap("ภาคเหนือ")
    assert "ล้านนาตะวันตก" in " ".join(secretariat.chips()) or "ภาคเหนือ" in secretariat.chips()
    secretariat.tap("ย้อนกลับ")
    assert "ผู้แทนสมัชชา" in secretariat.chips()
    secretariat.tap("ยกเลิก")
    assert "ยกเลิก" in secretariat.last_text()
    assert grants_of(db, uid) == []
    assert db.scalar(select(AuditEntry.id)) is None


def test_members_registered_before_the_invitation_are_appointed_directly(db, frozen_now, chat):
    staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    uid, name, phone = CHIANG_MAI_PEOPLE[0]
    member = registered(db, uid, name, phone)
    outcome = appointments.appoint(db, member_of(db, SEC), role=Role.DELEGATE, scope=Scope.parse("region:north"),
                                   via=AuditVia.CHAT, now=frozen_now, phone="+66 89 111 0001")
    assert outcome.done is appointments.Done.GRANTED and outcome.member.id == member.id
    again = appointments.appoint(db, member_of(db, SEC), role=Role.DELEGATE, scope=Scope.parse("region:north"),
                                 via=AuditVia.CHAT, now=frozen_now, member=member)
    assert again.done is appointments.Done.ALREADY
    assert db.scalar(select(Invitation.id)) is None
    assert db.scalars(select(RoleGrant.scope_code).where(RoleGrant.member_id == member.id)).all() == ["north"]


def test_assembly_screen_lists_every_open_or_upcoming_session(chat, db, frozen_now):
    from datetime import date

    from bot import assembly as rules
    from bot.models import AgendaItem, AssemblySession, ItemStatus

    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    today = date(2026, 11, 18)
    past = AssemblySession(name="สมัชชาปีที่แล้ว", held_on=date(2025, 11, 1), place="ขอนแก่น")
    now_on = AssemblySession(name="สมัชชาสมัยสามัญ", held_on=today, place="กรุงเทพฯ")
    later = AssemblySession(name="สมัชชาวิสามัญ", held_on=date(2027, 1, 15), place="เชียงใหม่")
    db.add_all([past, now_on, later])
    for session, n in ((past, 1), (now_on, 8), (later, 6)):
        start = frozen_now + timedelta(days=-400 if session is past else 1)
        for i in range(n):
            db.add(AgendaItem(session=session, position=i + 1, title=f"{session.name} วาระ {i + 1}",
                              status=ItemStatus.CLOSED if session is past else ItemStatus.SCHEDULED,
                              opens_at=start, closes_at=start + timedelta(days=1),
                              token=rules.new_token(), secret=False, allow_change=True,
                              abstain_index=rules.DEFAULT_ABSTAIN))
    db.commit()
    secretariat.say("สมัชชา")
    text = secretariat.last_text()
    assert "สมัชชาสมัยสามัญ" in text and "สมัชชาวิสามัญ" in text and "สมัชชาปีที่แล้ว วาระ" not in text
    assert "แสดงวาระ 12 จาก 14 วาระ" in text
    carousel = secretariat.replies()[-1]
    assert len(carousel["contents"]["contents"]) == 12
    assert "สมัชชาวิสามัญ วาระ 4" in text  # items of the later session are on the screen too


def test_thai_aware_search_finds_partial_names_titles_typos_and_any_phone_format(db, frozen_now, chat):
    secretariat_member = registered(db, SEC, "เลขา กลาง", "0812345670")
    from bot.roles import grant

    grant(db, secretariat_member, Role.SECRETARIAT, "national")
    db.commit()
    boonmee = registered(db, "U" + "3" * 32, "บุญมี ศรีสุข", "0891110001")
    registered(db, "U" + "4" * 32, "มานพ ทองดี", "0891110003", province="40")

    def find(text):
        return [m.full_name for m in appointments.find_people(db, secretariat_member, text)]

    assert find("ศรีสุข") == ["บุญมี ศรีสุข"]  # a part of the name, the family name too
    assert find("คุณบุญมี") == ["บุญมี ศรีสุข"]  # a polite title is not part of the name
    assert find("บุญมิ ศรีสุก") == ["บุญมี ศรีสุข"]  # misspelt vowels and final consonant
    assert find("+66 89 111 0001") == find("๐๘๙๑๑๑๐๐๐๑") == ["บุญมี ศรีสุข"]
    assert find("สมหมาย") == []
    # A coordinator of Chiang Mai never finds someone in Khon Kaen, by name or by phone.
    coordinator = registered(db, COORD, "ผู้ประสาน ขบวนดี", "0812345671")
    grant(db, coordinator, Role.COORDINATOR, "province:50")
    db.commit()
    assert appointments.find_people(db, coordinator, "0891110003") == []
    assert [m.id for m in appointments.find_people(db, coordinator, "บุญ")] == [boonmee.id]


def test_erasing_an_invited_member_keeps_the_record_and_drops_their_phone(chat, db, frozen_now):
    from bot.erasure import erase_member

    secretariat = staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    uid, name, phone = CHIANG_MAI_PEOPLE[0]
    appointments.appoint(db, member_of(db, SEC), role=Role.COORDINATOR, scope=Scope.parse("province:50"),
                         via=AuditVia.CHAT, now=frozen_now, phone=phone, name=name)
    db.commit()
    member = registered(db, uid, name, phone)
    assert appointments.on_registered(db, member, now=frozen_now, first_time=True)  # the person and the inviter are told
    db.commit()
    assert grants_of(db, uid) == [(Role.COORDINATOR, "province:50")]
    erase_member(db, member_of(db, uid), frozen_now)
    db.commit()
    assert db.scalar(select(Invitation.phone)) != phone and db.scalar(select(Invitation.name)) != name
    secretariat.say("ประวัติการแต่งตั้ง")
    text = secretariat.last_text()
    assert "สมาชิกที่ลบข้อมูลแล้ว รับคำเชิญของ เลขา กลาง เป็นผู้ประสานงาน" in text and name not in text
    assert "เลขา กลาง เชิญผู้ที่ยังไม่ลงทะเบียนเป็นผู้ประสานงาน" in text and "089-111-0001" not in text


def test_removal_follows_the_table_nominations_and_confirmed_seats(db, frozen_now, chat):
    from bot.models import OutboxMessage
    from bot.roles import grant

    coordinator = registered(db, COORD, "ผู้ประสาน ขบวนดี", "0812345671")
    grant(db, coordinator, Role.COORDINATOR, "province:50")
    secretariat = registered(db, SEC, "เลขา กลาง", "0812345670")
    grant(db, secretariat, Role.SECRETARIAT, "national")
    uid, name, phone = CHIANG_MAI_PEOPLE[0]
    delegate = registered(db, uid, name, phone, locale="en")
    db.commit()
    seat = Scope.parse("province:50")
    nominated = appointments.appoint(db, coordinator, role=Role.DELEGATE, scope=seat, via=AuditVia.CHAT,
                                     now=frozen_now, member=delegate)
    assert nominated.done is appointments.Done.NOMINATED
    # The push speaks the appointee's language.
    pushed = db.get(OutboxMessage, nominated.outbox[0])
    assert "nominated as an assembly delegate" in pushed.messages[0]["altText"]
    # The coordinator may withdraw their nomination; once confirmed, only the national office removes it.
    assert [h.token[0] for h in appointments.removable(db, coordinator, delegate)] == ["n"]
    appointments.confirm(db, secretariat, db.scalar(select(SeatNomination)), via=AuditVia.CHAT, now=frozen_now)
    assert appointments.removable(db, coordinator, delegate) == []
    held = appointments.removable(db, secretariat, delegate)
    assert [(h.role, str(h.scope)) for h in held] == [(Role.DELEGATE, "province:50")]
    appointments.remove(db, secretariat, delegate, held[0].token, via=AuditVia.CHAT, now=frozen_now)
    assert db.scalar(select(SeatNomination.id)) is None and delegate.roles == []
    # Nobody appoints themselves, and a coordinator never outside their scope or above their role.
    for role, where, why in ((Role.LEADER, "province:50", appointments.Why.SELF),
                             (Role.LEADER, "province:40", appointments.Why.NOT_ALLOWED),
                             (Role.SECRETARIAT, "province:50", appointments.Why.NOT_ALLOWED),
                             (Role.LEADER, "region:north", appointments.Why.WRONG_KIND)):
        target = coordinator if why is appointments.Why.SELF else delegate
        with pytest.raises(appointments.Refused) as refused:
            appointments.appoint(db, coordinator, role=role, scope=Scope.parse(where), via=AuditVia.CHAT,
                                 now=frozen_now, member=target)
        assert refused.value.why is why, (role, where)


def test_housekeeping_forgets_closed_invitations_phones_after_a_month(services, db, frozen_now, chat):
    from bot.housekeeping import prune

    staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง")
    actor = member_of(db, SEC)
    made = {}
    for label, days_ago, phone in (("expired long ago", 61, "0894440001"), ("expired lately", 40, "0894440002"),
                                   ("open", 1, "0894440003")):
        made[label] = appointments.appoint(db, actor, role=Role.LEADER, scope=Scope.parse("province:50"),
                                           via=AuditVia.CHAT, now=frozen_now - timedelta(days=days_ago),
                                           phone=phone, name=f"ชื่อ {label}").invitation.id
    db.commit()
    prune(services, frozen_now)
    db.rollback()
    phones = dict(db.execute(select(Invitation.id, Invitation.phone)).all())
    # Expired 31 days ago: forgotten. Expired 10 days ago, and the open one: kept (still needed).
    assert phones == {made["expired long ago"]: None, made["expired lately"]: "0894440002",
                      made["open"]: "0894440003"}
