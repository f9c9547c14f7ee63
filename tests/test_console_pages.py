"""The console's pages: what a province coordinator may see (their province, by any URL or
parameter), filters and paging, certification from the web with the chat's notices, CSRF."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.models import (ActivityReport, ActivityType, BudgetSource, Member, Organization, OrgStatus, PhotoStatus,
                        Province, ReportPhoto, Role)
from bot.roles import grant

from .helpers import COORD, U1, U2, console_client, csrf_token, make_coordinator, member_of, person, register, register_org

SECRETARIAT = "U" + "5" * 32


def _org(db, name: str, province_code: str, *, status=OrgStatus.CERTIFIED, leader: Member | None = None,
         org_type="community") -> Organization:
    org = Organization(name=name, org_type=org_type, member_count=20, status=status, registered_by=leader,
                       province=db.scalar(select(Province).where(Province.code == province_code)))
    db.add(org)
    db.flush()
    return org


def _report(db, org: Organization, author: Member, day: date, *, participants=10, budget=None, source=None):
    row = ActivityReport(organization=org, author=author, activity_type=ActivityType.MEETING, activity_date=day,
                         participants=participants, description="ประชุม", budget=budget, budget_source=source)
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def world(chat, db, services, frozen_now):
    """A Chiang Mai (province:50) coordinator; organizations, reports and a photo in Chiang Mai and Bangkok."""
    make_coordinator(chat, db)
    cm_person = person(db, U1, province="50")
    bkk_person = person(db, U2, province="10")
    today = frozen_now.date()
    cm = _org(db, "กลุ่มเชียงใหม่", "50", leader=cm_person)
    bkk = _org(db, "กลุ่มบางกอก", "10", leader=bkk_person, status=OrgStatus.PENDING)
    cm_report = _report(db, cm, cm_person, today, participants=35, budget=Decimal("1500"), source=BudgetSource.CODI)
    bkk_report = _report(db, bkk, bkk_person, today, participants=99)
    photos = {}
    for key, report in (("cm", cm_report), ("bkk", bkk_report)):
        # Through the media store, as photos arrive: the console serves them from wherever it keeps them.
        services.media.put(f"reports/{key}.jpg", b"\xff\xd8\xff\xe0fakejpeg", "image/jpeg")
        photo = ReportPhoto(report=report, member_id=report.author_id, line_message_id=f"m-{key}",
                            status=PhotoStatus.STORED, path=f"reports/{key}.jpg", content_type="image/jpeg")
        db.add(photo)
        db.flush()
        photos[key] = photo.id
    db.commit()
    client = console_client(chat.app, db, COORD, now=frozen_now)
    return {"client": client, "cm": cm.id, "bkk": bkk.id, "photos": photos}


def test_a_province_coordinator_sees_only_their_province(world):
    client = world["client"]
    for path in ("/console/", "/console/organizations", "/console/reports", "/console/people"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "กลุ่มบางกอก" not in page.get_data(as_text=True), path
    assert "กลุ่มเชียงใหม่" in client.get("/console/organizations").get_data(as_text=True)
    reports = client.get("/console/reports").get_data(as_text=True)
    assert "กลุ่มเชียงใหม่" in reports and 'id="participants">35<' in reports


@pytest.mark.parametrize("path", [
    "/console/?scope=national", "/console/?scope=province:10", "/console/?scope=region:bangkok_metro",
    "/console/organizations?scope=national", "/console/organizations?province=10",
    "/console/organizations/{bkk}", "/console/reports?province=10", "/console/reports?org={bkk}",
    "/console/reports?scope=province:10", "/console/people?scope=national", "/console/assembly?scope=national",
    "/console/photos/{bkk_photo}", "/console/organizations?scope=province:nope",
])
def test_no_url_or_parameter_reaches_another_province(world, path):
    url = path.format(bkk=world["bkk"], bkk_photo=world["photos"]["bkk"])
    assert world["client"].get(url).status_code == 404


def test_own_photo_is_served_and_decisions_outside_the_scope_are_refused(world):
    client = world["client"]
    photo = client.get(f"/console/photos/{world['photos']['cm']}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.data == b"\xff\xd8\xff\xe0fakejpeg"
    token = csrf_token(client.get(f"/console/organizations/{world['cm']}").get_data(as_text=True))
    refused = client.post(f"/console/organizations/{world['bkk']}/decide",
                          data={"csrf_token": token, "decision": "certify"})
    assert refused.status_code == 404


def test_a_national_secretariat_sees_everything_and_may_narrow_it(chat, db, world, frozen_now):
    secretariat = person(db, SECRETARIAT, province="10")
    grant(db, secretariat, Role.SECRETARIAT, "national")
    db.commit()
    client = console_client(chat.app, db, SECRETARIAT, now=frozen_now)
    everything = client.get("/console/organizations").get_data(as_text=True)
    assert "กลุ่มบางกอก" in everything and "กลุ่มเชียงใหม่" in everything
    narrowed = client.get("/console/organizations?scope=province:10").get_data(as_text=True)
    assert "กลุ่มบางกอก" in narrowed and "กลุ่มเชียงใหม่" not in narrowed
    people = client.get("/console/people").get_data(as_text=True)
    assert "สมชาย ใจงาม" in people  # the secretariat may see names
    assert "สมชาย ใจงาม" not in world["client"].get("/console/people").get_data(as_text=True)


def test_filters_and_paging(chat, db, world):
    cm_person = member_of(db, U1)
    for n in range(30):
        _org(db, f"ออมทรัพย์ {n:02d}", "50", leader=cm_person, status=OrgStatus.PENDING if n % 2 else OrgStatus.CERTIFIED)
    db.commit()
    client = world["client"]
    first = client.get("/console/organizations").get_data(as_text=True)
    assert "พบ 31 รายการ" in first and first.count('href="/console/organizations/') == 25 and 'rel="next"' in first
    second = client.get("/console/organizations?page=2").get_data(as_text=True)
    assert second.count('href="/console/organizations/') == 6 and 'rel="prev"' in second
    pending = client.get("/console/organizations?status=pending").get_data(as_text=True)
    assert "พบ 15 รายการ" in pending
    found = client.get("/console/organizations?q=ออมทรัพย์ 07").get_data(as_text=True)
    assert "พบ 1 รายการ" in found and "ออมทรัพย์ 07" in found
    assert "พบ 0 รายการ" in client.get("/console/organizations?type=cooperative").get_data(as_text=True)
    assert client.get("/console/organizations?status=bogus").status_code == 404
    later = world["client"].get("/console/reports?from=2030-01-01").get_data(as_text=True)
    assert 'id="total">0<' in later


def test_report_totals_by_source(chat, db, world, frozen_now):
    org = db.get(Organization, world["cm"])
    _report(db, org, member_of(db, U1), frozen_now.date() - timedelta(days=1), participants=5,
            budget=Decimal("500"), source=BudgetSource.CODI)
    db.commit()
    page = world["client"].get("/console/reports").get_data(as_text=True)
    assert 'id="participants">40<' in page
    assert 'id="baht">2,000 บาท<' in page and "พอช.: 2,000 บาท" in page


def test_certifying_on_the_web_tells_the_leader_as_the_chat_does(chat, db, frozen_now):
    leader = register(chat, user_id=U1)
    register_org(leader, name="กลุ่มออมทรัพย์บ้านแม่แฝก")
    leader.tap("บันทึก")
    make_coordinator(chat, db)
    org = db.scalar(select(Organization).where(Organization.name == "กลุ่มออมทรัพย์บ้านแม่แฝก"))
    client = console_client(chat.app, db, COORD, now=frozen_now)
    page = client.get(f"/console/organizations/{org.id}").get_data(as_text=True)
    assert 'id="certify"' in page
    # Without the CSRF token the form is refused.
    assert client.post(f"/console/organizations/{org.id}/decide", data={"decision": "certify"}).status_code == 400
    done = client.post(f"/console/organizations/{org.id}/decide",
                       data={"csrf_token": csrf_token(page), "decision": "certify"})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Organization, org.id).status is OrgStatus.CERTIFIED
    pushed = [m["text"] for m in chat.emulator.messages_for(U1) if m.get("_via") == "push" and m["type"] == "text"]
    assert any("กลุ่มออมทรัพย์บ้านแม่แฝก" in t and "รับรอง" in t for t in pushed)
    # Deciding again is refused with the chat's words; nothing more is pushed.
    again = client.post(f"/console/organizations/{org.id}/decide",
                        data={"csrf_token": csrf_token(page), "decision": "reject", "reason": "ซ้ำ"}, follow_redirects=True)
    assert "ตัดสินไปแล้ว" in again.get_data(as_text=True)


def test_rejecting_needs_a_reason(chat, db, world):
    client = world["client"]
    org = _org(db, "กลุ่มใหม่", "50", status=OrgStatus.PENDING, leader=member_of(db, U1))
    db.commit()
    page = client.get(f"/console/organizations/{org.id}").get_data(as_text=True)
    answer = client.post(f"/console/organizations/{org.id}/decide",
                         data={"csrf_token": csrf_token(page), "decision": "reject", "reason": ""}, follow_redirects=True)
    assert "เหตุผล" in answer.get_data(as_text=True)
    db.expire_all()
    assert db.get(Organization, org.id).status is OrgStatus.PENDING


def test_english_pages_for_an_english_speaker(chat, db, world):
    member = member_of(db, COORD)
    member.locale = "en"
    db.commit()
    page = world["client"].get("/console/").get_data(as_text=True)
    assert "Overview" in page and "Silent provinces" in page


def test_an_xlsx_export_downloads_reads_back_and_is_audited(world):
    import io

    from openpyxl import load_workbook

    from bot.models import AuditAction, AuditEntry

    client = world["client"]
    page = client.get("/console/exports").get_data(as_text=True)
    assert "reports_province-50_2569-11-18.xlsx" in page
    response = client.get("/console/exports/reports.xlsx")
    assert response.status_code == 200
    assert 'filename="reports_province-50_2569-11-18.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and Chiang Mai's one report; Bangkok's is not in the scope
    assert "กลุ่มเชียงใหม่" in rows[1] and "กลุ่มบางกอก" not in str(rows)
    csv_text = client.get("/console/exports/organizations.csv").data.decode("utf-8-sig")
    assert "กลุ่มเชียงใหม่" in csv_text and "กลุ่มบางกอก" not in csv_text
    assert "สมชาย" not in csv_text  # a coordinator's export carries no names
    from sqlalchemy.orm import Session

    with Session(bind=world["client"].application.extensions["khabuan"].engine) as session:
        done = session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT)).all()
    assert [(e.details["kind"], e.details["format"], e.scope) for e in done] == [
        ("reports", "xlsx", "province:50"), ("organizations", "csv", "province:50")]


@pytest.mark.parametrize("path", ["/console/exports/reports.xlsx?scope=national",
                                  "/console/exports/organizations.csv?scope=province:10",
                                  "/console/exports/people.csv", "/console/exports/reports.pdf"])
def test_exports_outside_the_scope_or_unknown_are_refused(world, path):
    assert world["client"].get(path).status_code == 404


def test_exports_need_a_session(chat):
    response = chat.app.test_client().get("/console/exports/reports.csv")
    assert response.status_code == 302 and "/console/signin" in response.headers["Location"]


def test_overview_shows_the_map_chart_and_silent_provinces(world):
    client = world["client"]
    page = client.get("/console/").get_data(as_text=True)
    assert 'data-code="50"' in page and 'data-code="10"' not in page  # the scope's tile only
    assert "/console/chart.png" in page
    png = client.get("/console/chart.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert client.get("/console/chart.png?scope=national").status_code == 404


def test_assembly_shows_turnout_while_open_and_the_masked_result_after_close(chat, db, services, world, frozen_now):
    from bot import assembly
    from bot.models import AgendaItem, AssemblySession

    voters = []
    for n, scope in enumerate(("province:50", "province:50", "province:50", "province:10")):
        member = Member(line_user_id=f"U{n:032d}", full_name=f"ผู้แทน {n}", locale="th", active=True)
        db.add(member)
        db.flush()
        grant(db, member, Role.DELEGATE, scope)
        voters.append(member)
    meeting = AssemblySession(name="สมัชชาประจำปี", held_on=frozen_now.date(), place="กรุงเทพฯ")
    item = AgendaItem(session=meeting, title="รับรองแผนงาน", secret=True, opens_at=frozen_now - timedelta(minutes=1),
                      closes_at=frozen_now + timedelta(days=1), abstain_index=assembly.DEFAULT_ABSTAIN,
                      token=assembly.new_token())
    db.add(item)
    db.commit()
    assembly.open_item(db, item, frozen_now, services.settings.timezone)
    db.commit()
    for member, option in zip(voters, (0, 0, 0, 1)):
        assembly.cast_vote(db, item.token, option, member, frozen_now)
    db.commit()
    live = world["client"].get("/console/assembly").get_data(as_text=True)
    assert "ลงคะแนนแล้ว 4 จาก 4 คน" in live and "กำลังลงมติ" in live
    assert "<th>เห็นด้วย</th>" not in live  # no counts per option while voting
    assembly.close_item(db, db.get(AgendaItem, item.id), frozen_now + timedelta(days=1, minutes=1),
                        services.settings.timezone)
    db.commit()
    closed = world["client"].get("/console/assembly").get_data(as_text=True)
    result = closed.split('class="result"')[1].split("</table>")[0]
    assert "ผ่าน" in closed and "<th>เห็นด้วย</th>" in result
    assert "น้อยกว่า 3" in result or "ไม่แสดง" in result  # Bangkok's single vote is never a number
    assert "<th>3</th><th>1</th><th>0</th>" in result  # the item's totals stay public


def test_reports_show_this_month_unless_dates_are_given(chat, db, world, frozen_now):
    org = db.get(Organization, world["cm"])
    _report(db, org, member_of(db, U1), date(2026, 10, 30), participants=7)
    db.commit()
    client = world["client"]
    this_month = client.get("/console/reports").get_data(as_text=True)
    assert 'id="total">1<' in this_month and 'value="2026-11-01"' in this_month
    wider = client.get("/console/reports?from=2026-10-01&to=2026-11-30").get_data(as_text=True)
    assert 'id="total">2<' in wider and 'id="participants">42<' in wider


def test_report_totals_agree_whichever_way_they_are_summed(chat, db, world):
    client = world["client"]
    kept = client.get("/console/reports").get_data(as_text=True)  # from the day totals
    counted = client.get(f"/console/reports?org={world['cm']}").get_data(as_text=True)  # from the rows
    for marker in ('id="total">', 'id="participants">', 'id="baht">'):
        assert kept.split(marker)[1].split("<")[0] == counted.split(marker)[1].split("<")[0], marker


def test_names_and_phones_follow_the_area_viewed_not_any_role_held(chat, db, frozen_now):
    """Secretariat of Chiang Mai (province:50) and coordinator of the North: names and phones in
    Chiang Mai, not across the North (Chiang Rai, province:57), on pages and in exports."""
    from .helpers import registered

    viewer_ = registered(db, SECRETARIAT, "เลขา เชียงใหม่", "0800000000", province="50")
    grant(db, viewer_, Role.SECRETARIAT, "province:50")
    grant(db, viewer_, Role.COORDINATOR, "region:north")
    cm = registered(db, U1, "ชาวเชียงใหม่ ทดสอบ", "0811111111", province="50")
    cr = registered(db, U2, "ชาวเชียงราย ทดสอบ", "0822222222", province="57")
    _report(db, _org(db, "กลุ่มเชียงราย", "57", leader=cr), cr, frozen_now.date())
    _report(db, _org(db, "กลุ่มเชียงใหม่", "50", leader=cm), cm, frozen_now.date())
    db.commit()
    client = console_client(chat.app, db, SECRETARIAT, now=frozen_now)

    for path in ("/console/people", "/console/people?scope=region:north"):  # the North is the default
        page = client.get(path).get_data(as_text=True)
        for hidden in ("ชาวเชียงราย", "ชาวเชียงใหม่", "082-222-2222", "081-111-1111"):
            assert hidden not in page, (path, hidden)
        assert f"#{cr.id}" in page
    region_csv = client.get("/console/exports/reports.csv?scope=region:north").data.decode("utf-8-sig")
    assert "กลุ่มเชียงราย" in region_csv and "ชาวเชียงราย" not in region_csv and "0822222222" not in region_csv
    header = region_csv.splitlines()[0]
    orgs_csv = client.get("/console/exports/organizations.csv?scope=region:north").data.decode("utf-8-sig")
    assert "กลุ่มเชียงราย" in orgs_csv and len(orgs_csv.splitlines()[0]) < len(
        client.get("/console/exports/organizations.csv?scope=province:50").data.decode("utf-8-sig").splitlines()[0])

    page = client.get("/console/people?scope=province:50").get_data(as_text=True)
    assert "ชาวเชียงใหม่ ทดสอบ" in page and "081-111-1111" in page and "ชาวเชียงราย" not in page
    province_csv = client.get("/console/exports/reports.csv?scope=province:50").data.decode("utf-8-sig")
    assert "ชาวเชียงใหม่ ทดสอบ" in province_csv and "กลุ่มเชียงราย" not in province_csv
    assert province_csv.splitlines()[0].startswith(header) and len(province_csv.splitlines()[0]) > len(header)

    from bot.models import AuditAction, AuditEntry

    db.expire_all()
    done = db.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT).order_by(AuditEntry.id)).all()
    assert [(e.scope, e.details["personal"]) for e in done] == [
        ("region:north", False), ("region:north", False), ("province:50", True), ("province:50", True)]

    # A person's own page (the appointer's): the phone only where a secretariat grant holds them.
    assert "082-222-2222" not in client.get(f"/console/people/{cr.id}").get_data(as_text=True)
    assert "081-111-1111" in client.get(f"/console/people/{cm.id}").get_data(as_text=True)


def test_pages_on_connections_postgresql_dropped_run_again_on_fresh_ones(chat, db, services, world, frozen_now):
    """The web app's pool does not ping before use: after PostgreSQL drops its connections (a
    restart, a failover), a console page, the sign-in link page, a chart image and /readyz each
    retry once on a fresh connection instead of answering 500 (or 'not ready')."""
    import dataclasses
    from urllib.parse import urlsplit

    from bot import links

    from .helpers import drop_idle_connections

    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    client, anonymous, app_client = world["client"], chat.app.test_client(), chat.app.test_client()
    https = dataclasses.replace(services.settings, public_url="https://khabuan.example.org")
    chart = urlsplit(links.chart_url(https, "province:50", frozen_now.date(), "th", now=frozen_now)).path
    checks = [(client, "/console/organizations", 200), (anonymous, "/console/link/" + "x" * 43, 404),
              (app_client, chart, 200), (app_client, "/readyz", 200)]
    for browser, path, status in checks:  # each works, and leaves its connection in the pool
        assert browser.get(path).status_code == status, path
    for browser, path, status in checks:
        db.close()
        assert chat.app.extensions["khabuan"].engine.pool.checkedin()
        assert drop_idle_connections(services.engine) >= 1
        answer = browser.get(path)
        assert answer.status_code == status, (path, answer.status_code)
    assert "กลุ่มเชียงใหม่" in client.get("/console/organizations").get_data(as_text=True)
