"""Helpers shared by test modules: plain functions that arrange people and data.

Test modules import from here (and from tests/chat.py, tests/conftest.py), never from one another
(tests/test_layout.py checks it).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from bot.emulator import events as ev
from bot.postback import parse
from bot.models import ConversationState, Member, Organization, OrgStatus, Province, Role, StrategicIssue
from bot.roles import grant

from .chat import actions_in, texts_in

U1 = "U" + "1" * 32
U2 = "U" + "2" * 32
COORD = "U" + "c" * 32


def register(chat, user_id=U1, name="สมศรี ใจดี", phone="081-234-5678", province="เชียงใหม่"):
    leader = chat.user(user_id)
    leader.follow()
    leader.tap("ยินยอม")
    leader.say(name)
    leader.say(phone)
    leader.say(province)
    leader.tap("บันทึก")
    return leader


def make_coordinator(chat, db, user_id=COORD, scope="province:50", name="ผู้ประสาน"):
    person = register(chat, user_id=user_id, name=name, province="เชียงใหม่")
    member = db.scalar(select(Member).where(Member.line_user_id == user_id))
    grant(db, member, Role.COORDINATOR, scope)
    db.commit()
    return person


def register_org(leader, name="กลุ่มออมทรัพย์บ้านแม่แฝก", *, phone: str | None = None):
    """Answer the organization flow up to its summary card. The province and the contact phone
    are the leader's own (not asked); `phone` given is typed after tapping that row's edit link."""
    leader.tap("ลงทะเบียนองค์กร")
    leader.say(name)
    leader.tap("กลุ่มออมทรัพย์")
    leader.say("ต.แม่แฝก อ.สันทราย")
    leader.tap("สวัสดิการชุมชน")
    leader.tap("บ้านมั่นคง")
    leader.tap("เสร็จแล้ว")
    leader.say("๑๒๐ คน")
    leader.say("พ.ศ. 2550")
    if phone is not None:
        tap_edit(leader, "contact_phone")
        leader.say(phone)


def tap_edit(person, step: str) -> None:
    """Tap the "edit" link of one row of the latest summary card (scrolling up if need be)."""
    for message in reversed(person.all_messages()):
        for action in actions_in(message):
            if action.get("type") == "postback" and (parse(action.get("data", "")) or {}).get("e") == step:
                person.postback(action["data"])
                return
    raise AssertionError(f"no edit link for {step}")


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
    leader.say("เมื่อวาน")  # typed at the activity question: the day, then the kind
    leader.tap("ประชุม")
    leader.say("35")
    leader.say(description)


class Journey:
    """A person walking one journey, counted as issue #13's targets count it.

    What they must do: `typed` messages (`say`) and `taps` (a postback chip or button, a quick
    reply that sends words, a picked date, a sent location or photo); `questions` the bot asked
    (each flow step the conversation stood at, once, in order; the summary card is not a question);
    and `dead_ends`: replies whose last message offers nothing to tap (there must be none in 1:1).
    """

    CONFIRM = "__confirm"

    def __init__(self, user, db) -> None:
        self.user, self.db = user, db
        self.typed = 0
        self.taps = 0
        self.questions: list[tuple[str, str]] = []
        self.dead_ends: list[str] = []

    def _after(self, what: str) -> None:
        replies = self.user.replies()
        if not replies or not actions_in(replies[-1]):
            said = " | ".join(t for m in replies for t in texts_in(m)) if replies else "(nothing)"
            self.dead_ends.append(f"{what} -> {said}")
        self.db.rollback()  # see what the bot committed
        state = self.db.scalar(select(ConversationState).join(Member, Member.id == ConversationState.member_id)
                               .where(Member.line_user_id == self.user.user_id))
        if state is not None and state.step != self.CONFIRM and (state.flow, state.step) not in self.questions:
            self.questions.append((state.flow, state.step))

    # ---- what the person does -------------------------------------------------------
    def follow(self) -> None:
        self.user.follow()
        self._after("follow")

    def say(self, text: str) -> None:
        self.typed += 1
        self.user.say(text)
        self._after(f"say {text!r}")

    def tap(self, label: str) -> None:
        """A chip or button by its label: a postback, or a quick reply that sends its words."""
        action = self.user.action(label)
        self.taps += 1
        if action["type"] == "message":
            self.user.say(action["text"])
        else:
            assert action["type"] == "postback", action
            self.user.postback(action["data"])
        self._after(f"tap {label!r}")

    def postback(self, data: str, what: str = "a button") -> None:
        """A tap on a button found elsewhere (a pushed card, the rich menu)."""
        self.taps += 1
        self.user.postback(data)
        self._after(f"tap {what}")

    def pick_date(self, label: str, value: str) -> None:
        self.taps += 1
        self.user.pick_date(label, value)
        self._after(f"pick {value}")

    def location(self, *args, **kwargs) -> None:
        self.taps += 1
        self.user.location(*args, **kwargs)
        self._after("location")

    def image(self, message_id: str) -> None:
        self.taps += 1
        self.user.image(message_id)
        self._after("photo")

    # ---- reading ---------------------------------------------------------------------
    def __getattr__(self, name):
        return getattr(self.user, name)  # last_text, chips, sees, replies...


def registered(db, user_id: str, name: str, phone: str, province: str = "50", *, locale: str = "th") -> Member:
    """A registered member with their own name and phone (committed), for search and seats."""
    member = Member(line_user_id=user_id, locale=locale, active=True, display_name=name.split()[0],
                    full_name=name, phone=phone,
                    province=db.scalar(select(Province).where(Province.code == province)),
                    consent_at=datetime.now(timezone.utc), registered_at=datetime.now(timezone.utc))
    db.add(member)
    db.commit()
    return member


def staff(chat, db, user_id: str, role: Role, scope: str, name: str = "ผู้ประสาน ขบวนดี",
          phone: str = "0812345678", province: str = "50"):
    """A registered member holding `role` in `scope`, as a chat user."""
    member = registered(db, user_id, name, phone, province)
    grant(db, member, role, scope)
    db.commit()
    return chat.user(user_id)


def rollups_and_recount(db):
    """The daily rollups as stored, and the same figures recounted in Python from every report.

    Rows whose figures are all zero (everything in them withdrawn or moved) count as absent.
    """
    from collections import defaultdict
    from decimal import Decimal

    from bot.models import ActivityReport, OrgDailyRollup, ReportDailyRollup
    from bot.models.rollups import NO_ISSUE, rollup_day

    cents = Decimal("0.01")
    stored_issue = {(r.day, r.province_id, r.issue_id): (r.reports, r.participants, Decimal(r.budget).quantize(cents))
                    for r in db.scalars(select(ReportDailyRollup))
                    if (r.reports, r.participants, r.budget) != (0, 0, 0)}
    stored_org = {(r.day, r.organization_id): r.reports for r in db.scalars(select(OrgDailyRollup)) if r.reports}
    issue: dict = defaultdict(lambda: [0, 0, Decimal(0)])
    org: dict = defaultdict(int)
    for report, province_id in db.execute(select(ActivityReport, Organization.province_id)
                                          .join(ActivityReport.organization)
                                          .where(ActivityReport.withdrawn_at.is_(None))).tuples():
        day = rollup_day(report.created_at)
        row = issue[(day, province_id, report.issue_id or NO_ISSUE)]
        row[0] += 1
        row[1] += report.participants
        row[2] += Decimal(report.budget or 0)
        org[(day, report.organization_id)] += 1
    recount_issue = {k: (n, people, baht.quantize(cents)) for k, (n, people, baht) in issue.items()}
    return (stored_issue, stored_org), (recount_issue, dict(org))


def link_path(text: str) -> str:
    """The console sign-in link's path in a chat reply ("/console/link/<token>")."""
    import re

    found = re.search(r"https?://[^/\s]+(/console/link/[A-Za-z0-9_-]+)", text)
    assert found, f"no sign-in link in {text!r}"
    return found.group(1)


def open_sign_in_link(client, path: str, **kwargs):
    """Open a sign-in link as a person does: fetch its page, press "sign in on this device" (a POST)."""
    page = client.get(path, **kwargs)
    assert page.status_code == 200, page.status_code
    base = kwargs.get("base_url", "http://localhost")
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))},
                       headers={"Referer": base + path}, **kwargs)  # a browser sends it; HTTPS CSRF checks it


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


def drop_idle_connections(engine) -> int:
    """As a PostgreSQL restart would: the server cuts every idle connection to this database (from
    outside the app's pool, whose connections are not pinged before use). How many it cut."""
    from sqlalchemy import text

    from bot.db import make_engine

    outside = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with outside.connect() as conn:
            return conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                     "AND state = 'idle'")).scalar()
    finally:
        outside.dispose()
