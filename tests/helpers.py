"""Helpers shared by test modules: plain functions that arrange people and data.

Test modules import from here (and from tests/chat.py, tests/conftest.py), never from one another
(tests/test_layout.py checks it).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from bot.emulator import events as ev
from bot.models import Member, Organization, OrgStatus, Province, Role, StrategicIssue
from bot.roles import grant

U1 = "U" + "1" * 32
U2 = "U" + "2" * 32
COORD = "U" + "c" * 32


def register(chat, user_id=U1, name="สมศรี ใจดี", phone="081-234-5678", province="เชียงใหม่", lang="ภาษาไทย"):
    leader = chat.user(user_id)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say(name)
    leader.say(phone)
    leader.say(province)
    leader.tap(lang)
    leader.tap("บันทึก")
    return leader


def make_coordinator(chat, db, user_id=COORD, scope="province:50", name="ผู้ประสาน"):
    person = register(chat, user_id=user_id, name=name, province="เชียงใหม่")
    member = db.scalar(select(Member).where(Member.line_user_id == user_id))
    grant(db, member, Role.COORDINATOR, scope)
    db.commit()
    return person


def register_org(leader, name="กลุ่มออมทรัพย์บ้านแม่แฝก", *, phone: str | None = None):
    """Answer the organization flow up to its summary card; `phone` typed, or the leader's own tapped."""
    leader.tap("ลงทะเบียนองค์กร")
    leader.say(name)
    leader.tap("กลุ่มออมทรัพย์")
    leader.say("เชียงใหม่")
    leader.say("ต.แม่แฝก อ.สันทราย")
    leader.tap("สวัสดิการชุมชน")
    leader.tap("บ้านมั่นคง")
    leader.tap("เสร็จแล้ว")
    leader.say("๑๒๐ คน")
    leader.say("พ.ศ. 2550")
    if phone is None:
        leader.tap("081-234-5678")  # the leader's own phone, offered as a chip
    else:
        leader.say(phone)


def person(db, user_id: str, *, locale: str = "th", province: str = "50", registered: bool = True) -> Member:
    member = Member(line_user_id=user_id, locale=locale, active=True, display_name="สมชาย",
                    full_name="สมชาย ใจงาม", phone="0812345678",
                    province=db.scalar(select(Province).where(Province.code == province)),
                    consent_at=datetime.now(timezone.utc) if registered else None,
                    registered_at=datetime.now(timezone.utc) if registered else None)
    db.add(member)
    db.flush()
    return member


def group_postback(group, user_id: str, data: str) -> None:
    """A member of a group chat taps a button there (LINE sends the group as the source)."""
    token = group.chat.emulator.issue_reply_token(group.group_id)
    group._send(ev.postback_event(user_id, data, token, group_id=group.group_id))


def member_of(db, user_id: str) -> Member:
    return db.scalar(select(Member).where(Member.line_user_id == user_id))


def make_org(db, user_id: str, name: str, issues=("welfare",), status=OrgStatus.CERTIFIED, as_contact=False):
    member = member_of(db, user_id)
    province = db.scalar(select(Province).where(Province.name_th == "เชียงใหม่"))
    org = Organization(
        name=name, org_type="community", province=province, member_count=40, status=status,
        registered_by=None if as_contact else member, contact=member,
        issues=list(db.scalars(select(StrategicIssue).where(StrategicIssue.code.in_(issues)))),
    )
    db.add(org)
    db.commit()
    return org


def answer_until_photos(leader, *, org: str | None, description="ประชุมประจำเดือน วางแผนออมทรัพย์"):
    leader.say("รายงานกิจกรรม")
    if org is not None:
        leader.tap(org)
    leader.tap("ประชุม")
    leader.tap("สวัสดิการชุมชน")
    leader.tap("เมื่อวาน")
    leader.say("35")
    leader.say(description)


def link_path(text: str) -> str:
    """The console sign-in link's path in a chat reply ("/console/link/<token>")."""
    import re

    found = re.search(r"https?://[^/\s]+(/console/link/[A-Za-z0-9_-]+)", text)
    assert found, f"no sign-in link in {text!r}"
    return found.group(1)


def console_client(app, db, user_id: str, now=None):
    """A browser signed in to the console as this member (a session made as a sign-in would)."""
    from bot import signin

    member = member_of(db, user_id)
    token = signin.start_session(db, member, now or datetime.now(timezone.utc), via="link")
    db.commit()
    client = app.test_client()
    client.set_cookie("khabuan_console", token, path="/console")
    return client


def csrf_token(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def org_in(db, name: str, province_code: str, *, status=OrgStatus.CERTIFIED,
           created=datetime(2026, 10, 1, tzinfo=timezone.utc), phone: str | None = None, contact=None):
    """An organization in a province (by code), created at a given moment; flushed, not committed."""
    row = Organization(name=name, org_type="community", member_count=30, status=status, contact_phone=phone,
                       province=db.scalar(select(Province).where(Province.code == province_code)),
                       contact=contact, created_at=created, updated_at=created)
    db.add(row)
    db.flush()
    return row


def report_on(db, organization, author, day, *, participants=10, budget=None, source=None, withdrawn=False,
              created=None):
    """A live (or withdrawn) activity report of an organization dated `day` (a Bangkok date)."""
    from bot.models import ActivityReport, ActivityType

    created = created or datetime(day.year, day.month, day.day, 3, 0, tzinfo=timezone.utc)
    row = ActivityReport(organization_id=organization.id, author_id=author.id, activity_type=ActivityType.MEETING,
                         activity_date=day, participants=participants, description="ประชุม", budget=budget,
                         budget_source=source, created_at=created, updated_at=created,
                         withdrawn_at=created if withdrawn else None)
    db.add(row)
    db.flush()
    return row
