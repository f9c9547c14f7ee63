"""Appointments on the console's People page: the chat's rules and pushes (bot/appointments.py),
forms with CSRF tokens, refusals outside the viewer's roles and scope, audit lines via console."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from bot import appointments
from bot.models import AuditAction, AuditEntry, AuditVia, Invitation, Role, RoleGrant, SeatNomination
from bot.scopes import Scope

from .helpers import console_client, csrf_token, member_of, registered, staff

COORD = "U" + "c" * 32
SEC = "U" + "5" * 32
LEADER = "U" + "a" * 32
FAR = "U" + "b" * 32


def grants_of(db, user_id):
    db.rollback()
    db.expire_all()  # the session keeps what it loaded across commits; read what the console committed
    return sorted((g.role, g.scope) for g in member_of(db, user_id).roles)


def pushes(chat, user_id):
    return [m for m in chat.emulator.messages_for(user_id) if m.get("_via") == "push"]


def written(db):
    """What an appointment could have written: grants, nominations, invitations, audit lines
    (sign-ins aside: opening the console records one)."""
    db.rollback()
    return (db.scalar(select(func.count()).select_from(RoleGrant)),
            db.scalar(select(func.count()).select_from(SeatNomination)),
            db.scalar(select(func.count()).select_from(Invitation)),
            db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action != AuditAction.SIGN_IN)))


def coordinator_and_leader(chat, db, frozen_now):
    staff(chat, db, COORD, Role.COORDINATOR, "province:50")
    leader = registered(db, LEADER, "บุญมี ศรีสุข", "0891110001")
    return console_client(chat.app, db, COORD, now=frozen_now), leader


def test_a_province_coordinator_appoints_a_leader_and_the_appointee_is_told(chat, db, frozen_now):
    client, leader = coordinator_and_leader(chat, db, frozen_now)
    assert 'id="appoint"' in client.get("/console/people").get_data(as_text=True)

    found = client.get("/console/people/appoint?q=บุญ").get_data(as_text=True)
    assert "บุญมี ศรีสุข (เชียงใหม่)" in found and f"person=m{leader.id}" in found
    roles = client.get(f"/console/people/appoint?person=m{leader.id}").get_data(as_text=True)
    assert "แกนนำ" in roles and "ผู้แทนสมัชชา" in roles and "กองเลขา" not in roles
    areas = client.get(f"/console/people/appoint?person=m{leader.id}&role=leader").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"', areas.split('id="area-form"')[1]) == ["province:50"]
    confirm = client.get(f"/console/people/appoint/confirm?person=m{leader.id}&role=leader&area=province:50")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "ตรวจสอบก่อนแต่งตั้งค่ะ" in page
    assert "จังหวัดเชียงใหม่" in page and "มีผลทันที" in page
    assert grants_of(db, LEADER) == []  # looking changes nothing

    form = {"person": f"m{leader.id}", "role": "leader", "area": "province:50"}
    before = written(db)
    assert client.post("/console/people/appoint", data=form).status_code == 400  # no CSRF token
    assert written(db) == before
    done = client.post("/console/people/appoint", data={**form, "csrf_token": csrf_token(page)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/console/people/{leader.id}")
    assert grants_of(db, LEADER) == [(Role.LEADER, "province:50")]

    # The same push as from chat, delivered once the request committed.
    [push] = pushes(chat, LEADER)
    assert push["altText"].startswith("คุณได้รับแต่งตั้งเป็นแกนนำค่ะ")
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.GRANT))
    assert (entry.via, entry.role, entry.scope, entry.actor_id, entry.subject_id) == (
        AuditVia.CONSOLE, "leader", "province:50", member_of(db, COORD).id, leader.id)

    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "แต่งตั้งคุณบุญมี ศรีสุข เป็นแกนนำ จังหวัดเชียงใหม่ เรียบร้อยแล้วค่ะ" in after
    assert "(แดชบอร์ด)" in client.get("/console/people").get_data(as_text=True)  # the audit line, via console

    # Sent again (a double tap): nothing changes twice, nothing is pushed twice.
    again = client.post("/console/people/appoint", data={**form, "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "มีบทบาทแกนนำ จังหวัดเชียงใหม่ อยู่แล้วค่ะ" in again.get_data(as_text=True)
    assert len(pushes(chat, LEADER)) == 1


def test_an_unregistered_phone_gets_an_invitation_which_can_be_withdrawn(chat, db, frozen_now):
    client, _leader = coordinator_and_leader(chat, db, frozen_now)
    search = client.get("/console/people/appoint?q=๐๘๙-๙๙๙-๐๐๐๐").get_data(as_text=True)  # Thai digits too
    assert "ไม่พบเบอร์ 089-999-0000" in search and "person=p0899990000" in search
    page = client.get("/console/people/appoint/confirm?person=p0899990000&role=leader&area=province:50")
    text = page.get_data(as_text=True)
    assert "เจ้าของเบอร์ 089-999-0000" in text and "คำเชิญ ใช้ได้ 30 วัน" in text
    done = client.post("/console/people/appoint", data={"csrf_token": csrf_token(text), "person": "p0899990000",
                                                        "role": "leader", "area": "province:50"},
                       follow_redirects=True)
    invitation = db.scalar(select(Invitation))
    assert (invitation.phone, invitation.role, invitation.scope_code, invitation.invited_by_id) == (
        "0899990000", Role.LEADER, "50", member_of(db, COORD).id)
    people = done.get_data(as_text=True)
    assert "ส่งคำเชิญแล้วค่ะ" in people and " ".join(invitation.code) in people
    assert 'id="invitations"' in people and invitation.code in people

    path = f"/console/invitations/{invitation.id}/withdraw"
    assert client.post(path).status_code == 400  # no CSRF token
    gone = client.post(path, data={"csrf_token": csrf_token(people)}, follow_redirects=True)
    assert f"ถอนคำเชิญรหัส {' '.join(invitation.code)} แล้วค่ะ" in gone.get_data(as_text=True)
    db.rollback()
    assert db.get(Invitation, invitation.id).withdrawn_at is not None
    assert [(e.action, e.via) for e in db.scalars(select(AuditEntry).where(AuditEntry.action != AuditAction.SIGN_IN)
                                                  .order_by(AuditEntry.id))] == [
        (AuditAction.INVITE, AuditVia.CONSOLE), (AuditAction.INVITE_WITHDRAW, AuditVia.CONSOLE)]


def test_a_code_invitation_shows_its_code(chat, db, frozen_now):
    client, _leader = coordinator_and_leader(chat, db, frozen_now)
    page = client.get("/console/people/appoint/confirm?person=code&role=coordinator&area=province:50")
    done = client.post("/console/people/appoint", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                        "person": "code", "role": "coordinator",
                                                        "area": "province:50"}, follow_redirects=True)
    invitation = db.scalar(select(Invitation))
    assert invitation.phone is None and f"รหัสเชิญคือ {' '.join(invitation.code)}" in done.get_data(as_text=True)


def test_a_coordinator_gives_no_role_nor_area_beyond_theirs(chat, db, frozen_now):
    client, leader = coordinator_and_leader(chat, db, frozen_now)
    far = registered(db, FAR, "สมใจ ไกลบ้าน", "0891110002", province="10")
    staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง", phone="0812345679")
    far_invitation = appointments.appoint(db, member_of(db, SEC), role=Role.LEADER, scope=Scope.parse("province:10"),
                                          via=AuditVia.CLI, now=frozen_now, phone="0899990001").invitation
    db.commit()
    token = csrf_token(client.get("/console/people").get_data(as_text=True))
    before = written(db)

    # A role they may not give, an area outside their province: 403, whichever way it is asked.
    assert client.get(f"/console/people/appoint?person=m{leader.id}&role=secretariat").status_code == 403
    assert client.get(f"/console/people/appoint/confirm?person=m{leader.id}&role=leader&area=province:10"
                      ).status_code == 403
    for role, area in (("secretariat", "province:50"), ("leader", "province:10"), ("leader", "region:north"),
                       ("admin", "national")):
        answer = client.post("/console/people/appoint", data={"csrf_token": token, "person": f"m{leader.id}",
                                                              "role": role, "area": area})
        assert answer.status_code == 403, (role, area)
        assert "ไม่มีสิทธิ์" in answer.get_data(as_text=True)

    # Someone outside their province, by id in the URL or the form: 404 (as any row outside the scope).
    assert "ไกลบ้าน" not in client.get("/console/people/appoint?q=สมใจ").get_data(as_text=True)
    assert client.get(f"/console/people/{far.id}").status_code == 404
    assert client.get(f"/console/people/appoint?person=m{far.id}").status_code == 404
    assert client.post("/console/people/appoint", data={"csrf_token": token, "person": f"m{far.id}",
                                                        "role": "leader", "area": "province:50"}).status_code == 404
    assert client.post(f"/console/people/{far.id}/remove", data={"csrf_token": token, "held": "g1"}).status_code == 404
    assert client.post(f"/console/invitations/{far_invitation.id}/withdraw",
                       data={"csrf_token": token}).status_code == 404
    assert client.post("/console/people/appoint", data={"csrf_token": token, "person": "mnope",
                                                        "role": "leader", "area": "province:50"}).status_code == 404
    assert written(db) == before
    assert far_invitation.code not in client.get("/console/people").get_data(as_text=True)


def test_removing_a_role_tells_the_person(chat, db, frozen_now):
    client, leader = coordinator_and_leader(chat, db, frozen_now)
    confirm = client.get(f"/console/people/appoint/confirm?person=m{leader.id}&role=leader&area=province:50")
    client.post("/console/people/appoint", data={"csrf_token": csrf_token(confirm.get_data(as_text=True)),
                                                 "person": f"m{leader.id}", "role": "leader", "area": "province:50"})
    page = client.get(f"/console/people/{leader.id}").get_data(as_text=True)
    grant_id = db.scalar(select(RoleGrant.id).where(RoleGrant.member_id == leader.id))
    assert f'name="held" value="g{grant_id}"' in page and "ถอดถอน" in page

    path = f"/console/people/{leader.id}/remove"
    assert client.post(path, data={"held": f"g{grant_id}"}).status_code == 400  # no CSRF token
    assert client.post(path, data={"csrf_token": csrf_token(page), "held": "g999999"}).status_code == 403
    assert grants_of(db, LEADER) == [(Role.LEADER, "province:50")]
    done = client.post(path, data={"csrf_token": csrf_token(page), "held": f"g{grant_id}"}, follow_redirects=True)
    assert "ถอดถอนบทบาทแกนนำ จังหวัดเชียงใหม่ ของคุณบุญมี ศรีสุข แล้วค่ะ" in done.get_data(as_text=True)
    assert grants_of(db, LEADER) == []
    assert "สิ้นสุดแล้ว" in pushes(chat, LEADER)[-1]["text"]
    revoke = db.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.REVOKE))
    assert (revoke.via, revoke.role, revoke.subject_id) == (AuditVia.CONSOLE, "leader", leader.id)


def test_a_nomination_waits_for_the_national_secretariat_who_confirms_it(chat, db, frozen_now):
    client, leader = coordinator_and_leader(chat, db, frozen_now)
    confirm = client.get(f"/console/people/appoint/confirm?person=m{leader.id}&role=delegate&area=province:50")
    text = confirm.get_data(as_text=True)
    assert "เสนอชื่อผู้แทน รอกองเลขาระดับประเทศยืนยัน" in text and "0 จาก 3 ที่" in text
    client.post("/console/people/appoint", data={"csrf_token": csrf_token(text), "person": f"m{leader.id}",
                                                 "role": "delegate", "area": "province:50"})
    nomination = db.scalar(select(SeatNomination))
    assert nomination.member_id == leader.id and grants_of(db, LEADER) == []
    assert pushes(chat, LEADER)[-1]["altText"].startswith("คุณได้รับการเสนอชื่อเป็นผู้แทนสมัชชาค่ะ")

    # Only the national office confirms: the coordinator sees no list and is refused.
    coordinator_people = client.get("/console/people").get_data(as_text=True)
    assert 'id="nominations"' not in coordinator_people
    path = f"/console/nominations/{nomination.id}/confirm"
    assert client.post(path, data={"csrf_token": csrf_token(coordinator_people)}).status_code == 403

    staff(chat, db, SEC, Role.SECRETARIAT, "national", name="เลขา กลาง", phone="0812345679")
    secretariat = console_client(chat.app, db, SEC, now=frozen_now)
    people = secretariat.get("/console/people").get_data(as_text=True)
    assert 'id="nominations"' in people and "บุญมี ศรีสุข" in people
    assert secretariat.post(path).status_code == 400  # no CSRF token
    done = secretariat.post(path, data={"csrf_token": csrf_token(people)}, follow_redirects=True)
    assert "ยืนยันคุณบุญมี ศรีสุข เป็นผู้แทนสมัชชาของจังหวัดเชียงใหม่แล้วค่ะ" in done.get_data(as_text=True)
    assert grants_of(db, LEADER) == [(Role.DELEGATE, "province:50")]
    assert pushes(chat, LEADER)[-1]["altText"].startswith("คุณได้รับแต่งตั้งเป็นผู้แทนสมัชชาค่ะ")
    assert [(e.action, e.via) for e in db.scalars(select(AuditEntry).where(AuditEntry.action != AuditAction.SIGN_IN)
                                                  .order_by(AuditEntry.id))] == [
        (AuditAction.NOMINATE, AuditVia.CONSOLE), (AuditAction.CONFIRM, AuditVia.CONSOLE)]


def test_the_appoint_page_in_english(chat, db, frozen_now):
    client, leader = coordinator_and_leader(chat, db, frozen_now)
    member = member_of(db, COORD)
    member.locale = "en"
    db.commit()
    page = client.get(f"/console/people/appoint/confirm?person=m{leader.id}&role=leader&area=province:50")
    text = page.get_data(as_text=True)
    assert "Takes effect at once" in text and "Appoint" in text and "Chiang Mai" in text


def test_a_full_area_and_oneself_are_refused_with_the_chats_words(chat, db, frozen_now):
    client, leader = coordinator_and_leader(chat, db, frozen_now)
    coordinator = member_of(db, COORD)
    for n in range(3):
        holder = registered(db, "U" + "d" * 31 + str(n), f"ผู้แทน ที่{n}", f"089111100{n + 3}")
        appointments.appoint(db, None, role=Role.DELEGATE, scope=Scope.parse("province:50"), via=AuditVia.CLI,
                             now=frozen_now, member=holder)
    db.commit()
    token = csrf_token(client.get("/console/people").get_data(as_text=True))
    before = written(db)
    full = client.post("/console/people/appoint", data={"csrf_token": token, "person": f"m{leader.id}",
                                                        "role": "delegate", "area": "province:50"},
                       follow_redirects=True)
    text = full.get_data(as_text=True)
    assert "ครบ 3 ที่แล้ว" in text and "ผู้แทน ที่0" in text and 'id="area-form"' in text
    self_ = client.post("/console/people/appoint", data={"csrf_token": token, "person": f"m{coordinator.id}",
                                                         "role": "leader", "area": "province:50"},
                        follow_redirects=True)
    assert "แต่งตั้งหรือถอดถอนตัวเองไม่ได้ค่ะ" in self_.get_data(as_text=True)
    assert written(db) == before
