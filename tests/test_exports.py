"""bot/exports.py: CSV and XLSX exports by scope, personal columns only when asked, streamed."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import assembly, exports
from bot.cards.assembly import cell_text
from bot.i18n import use_locale
from bot.models import (
    AgendaItem,
    AssemblySession,
    Ballot,
    BudgetSource,
    ItemStatus,
    OrgStatus,
    Region,
    Role,
    Vote,
)
from bot.roles import grant
from bot.scopes import Scope

from .helpers import org_in, person, report_on

CHIANG_MAI = Scope.parse("province:50")
NORTH = Scope.parse("region:north")


def read_csv(export) -> list[list[str]]:
    data = b"".join(export.chunks)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8 Thai
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(export) -> list[list[object]]:
    book = load_workbook(io.BytesIO(b"".join(export.chunks)), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def data(db, frozen_now):
    leader = person(db, "U" + "7" * 32)
    leader.full_name, leader.phone = "บุญมี มีสุข", "0891112222"
    cm = org_in(db, "วิสาหกิจชุมชนบ้านแม่กำปอง", "50", phone="0812345678", contact=leader)
    org_in(db, "สภาองค์กรชุมชนตำบลสันทราย", "50", status=OrgStatus.PENDING)
    cr = org_in(db, "กลุ่มออมทรัพย์บ้านป่าแดด", "57")
    kk = org_in(db, "ชุมชนบ้านมั่นคงขอนแก่น", "40")
    report_on(db, cm, leader, date(2026, 11, 2), participants=12, budget=Decimal("1500.50"), source=BudgetSource.CODI)
    report_on(db, cm, leader, date(2026, 11, 3), participants=99, withdrawn=True)
    report_on(db, cr, leader, date(2026, 10, 9), participants=4)
    report_on(db, kk, leader, date(2026, 11, 5), participants=8)
    grant(db, leader, Role.DELEGATE, "province:50")
    other = person(db, "U" + "8" * 32, province="40")
    grant(db, other, Role.DELEGATE, "province:40")
    grant(db, other, Role.DELEGATE, "region:north")
    db.commit()
    return db


def test_file_names_carry_kind_scope_and_buddhist_date(data, frozen_now):
    out = exports.export(data, "reports", CHIANG_MAI, fmt="xlsx", personal=False, now=frozen_now)
    assert out.filename == "reports_province-50_2569-11-18.xlsx"
    assert out.mimetype.startswith("application/vnd.openxmlformats")
    assert exports.filename("organizations", Scope.NATIONAL, date(2027, 1, 2), "csv") == \
        "organizations_national_2570-01-02.csv"
    b"".join(out.chunks)  # consumed, so its temporary file is gone


def test_reports_csv_by_scope_live_only_without_personal_columns(data, frozen_now):
    rows = read_csv(exports.export(data, "reports", NORTH, personal=False, now=frozen_now))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["รหัสรายงาน", "วันที่จัดกิจกรรม", "รหัสองค์กร"]
    assert "ผู้รายงาน" not in header and "เบอร์โทรผู้รายงาน" not in header
    assert [(r[1], r[3], r[4], r[8]) for r in body] == [
        ("2026-11-02", "วิสาหกิจชุมชนบ้านแม่กำปอง", "50", "12"), ("2026-10-09", "กลุ่มออมทรัพย์บ้านป่าแดด", "57", "4")]
    first = dict(zip(header, body[0]))
    assert first["งบประมาณ (บาท)"] == "1500.50" and first["แหล่งงบประมาณ"] == "พอช."
    text = "\n".join(",".join(r) for r in rows)
    assert "บุญมี" not in text and "089" not in text
    national = read_csv(exports.export(data, "reports", Scope.NATIONAL, personal=False, now=frozen_now))
    assert len(national) == 1 + 3  # the withdrawn report is not exported


def test_personal_columns_only_when_asked(data, frozen_now):
    rows = read_csv(exports.export(data, "reports", CHIANG_MAI, personal=True, now=frozen_now))
    row = dict(zip(rows[0], rows[1]))
    assert row["ผู้รายงาน"] == "บุญมี มีสุข" and row["เบอร์โทรผู้รายงาน"] == "089-111-2222"
    orgs = read_csv(exports.export(data, "organizations", CHIANG_MAI, personal=True, now=frozen_now))
    first = dict(zip(orgs[0], orgs[1]))
    assert first["ผู้ติดต่อ"] == "บุญมี มีสุข" and first["เบอร์โทรผู้ติดต่อ"] == "081-234-5678"
    plain = read_csv(exports.export(data, "organizations", CHIANG_MAI, personal=False, now=frozen_now))
    assert "ผู้ติดต่อ" not in plain[0] and "เบอร์โทรผู้ติดต่อ" not in plain[0]
    assert "081" not in "".join(",".join(r) for r in plain)


def test_organizations_xlsx_reads_back_in_english(data, frozen_now):
    rows = read_xlsx(exports.export(data, "organizations", NORTH, fmt="xlsx", personal=False, now=frozen_now,
                                    locale="en"))
    header = rows[0]
    assert header[:4] == ["Organization id", "Organization", "Organization type", "Province code"]
    body = [dict(zip(header, r)) for r in rows[1:]]
    assert [(r["Organization"], r["Province"], r["Certification"]) for r in body] == [
        ("วิสาหกิจชุมชนบ้านแม่กำปอง", "Chiang Mai", "Certified"),
        ("สภาองค์กรชุมชนตำบลสันทราย", "Chiang Mai", "Waiting for certification"),
        ("กลุ่มออมทรัพย์บ้านป่าแดด", "Chiang Rai", "Certified")]
    assert isinstance(body[0]["Registered"], datetime) and body[0]["Members"] == 30


def test_reports_xlsx_has_typed_cells(data, frozen_now):
    rows = read_xlsx(exports.export(data, "reports", CHIANG_MAI, fmt="xlsx", personal=False, now=frozen_now))
    row = dict(zip(rows[0], rows[1]))
    assert row["วันที่จัดกิจกรรม"] == datetime(2026, 11, 2) and row["ผู้เข้าร่วม (คน)"] == 12
    assert row["งบประมาณ (บาท)"] == 1500.5
    assert len(rows) == 2


def test_delegates_by_scope(data, frozen_now):
    north = read_csv(exports.export(data, "delegates", NORTH, personal=False, now=frozen_now))
    assert [r[:3] for r in north[1:]] == [["ภาค", "north", "ภาคเหนือ"], ["จังหวัด", "50", "เชียงใหม่"]]
    assert "ชื่อผู้แทน" not in north[0]
    mine = read_csv(exports.export(data, "delegates", CHIANG_MAI, personal=True, now=frozen_now))
    assert [(r[1], r[5], r[6]) for r in mine[1:]] == [("50", "บุญมี มีสุข", "089-111-2222")]
    assert len(read_csv(exports.export(data, "delegates", Scope.NATIONAL, personal=False, now=frozen_now))) == 4


def test_results_show_the_secret_ballot_cells_as_the_chat_does(db, frozen_now):
    """Five delegates: three in the north all agree, one each in two other regions. The export's
    region cells are exactly breakdown_cells' (small cells masked), never the raw counts."""
    regions = {r.code: r.id for r in db.scalars(select(Region))}
    closed_at = frozen_now - timedelta(hours=1)
    item = AgendaItem(session=AssemblySession(name="สมัชชาทดสอบ", held_on=closed_at.date(), place="กรุงเทพฯ"),
                      title="รับรองแผนงานปี 2570", description="", secret=True, token=assembly.new_token(),
                      opens_at=closed_at - timedelta(days=1), closes_at=closed_at, closed_at=closed_at,
                      status=ItemStatus.CLOSED, eligible_count=5, abstain_index=assembly.DEFAULT_ABSTAIN)
    db.add(item)
    db.flush()
    for n, (region, option) in enumerate([("north", 0), ("north", 0), ("north", 0), ("bangkok_metro", 1),
                                          ("isan_upper", 2)]):
        voter = person(db, "U" + f"{n:x}" * 32)
        ballot = Ballot(item_id=item.id, member_id=voter.id, region_id=regions[region], voted_at=closed_at)
        db.add(ballot)
        db.flush()
        db.add(Vote(item_id=item.id, ballot_id=None, option_index=option, region_id=regions[region]))
    db.add(AgendaItem(session=item.session, title="ยังเปิดอยู่", description="", token=assembly.new_token(),
                      opens_at=closed_at, closes_at=closed_at + timedelta(days=1), status=ItemStatus.OPEN))
    db.commit()
    rows = read_csv(exports.export(db, "results", CHIANG_MAI, personal=False, now=frozen_now))
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert {r["วาระ"] for r in body} == {"รับรองแผนงานปี 2570"}  # an open item's counts are never exported
    totals = [(r["ตัวเลือก"], r["คะแนน"]) for r in body if r["ภาค"] == "ทุกภาค"]
    assert totals == [("เห็นด้วย", "3"), ("ไม่เห็นด้วย", "1"), ("งดออกเสียง", "1")]
    result = assembly.tally(db, db.get(AgendaItem, item.id))
    with use_locale("th"):
        expected = [(row.tally.name_th, str(cell) if isinstance(cell, int) else cell_text(cell, "th"))
                    for row in result.breakdown for cell in row.cells]
    assert [(r["ภาค"], r["คะแนน"]) for r in body if r["ภาค"] != "ทุกภาค"] == expected
    shown = {r["คะแนน"] for r in body if r["ภาค"] != "ทุกภาค"}
    assert "1" not in shown and "0" not in shown and "น้อยกว่า 3" in shown
    assert body[0]["ผลการลงมติ"] and body[0]["ลงคะแนนลับ"] == "ใช่"


def test_csv_is_streamed_in_chunks(data, frozen_now, monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 1)
    out = exports.export(data, "reports", Scope.NATIONAL, personal=False, now=frozen_now)
    chunks = list(out.chunks)
    assert len(chunks) >= 3  # a chunk per batch, not one buffer at the end
    assert chunks[0].startswith(b"\xef\xbb\xbf") and not any(c.startswith(b"\xef\xbb\xbf") for c in chunks[1:])


def test_unknown_kind_or_format_is_refused(data, frozen_now):
    with pytest.raises(exports.ExportError):
        exports.export(data, "members", Scope.NATIONAL, personal=False, now=frozen_now)
    with pytest.raises(exports.ExportError):
        exports.export(data, "reports", Scope.NATIONAL, fmt="pdf", personal=False, now=frozen_now)


def test_cli_export_writes_a_file(data, cli, tmp_path, frozen_now):
    out = tmp_path / "orgs.csv"
    result = cli("export", "organizations", "--scope", "province:50", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 3 and "ผู้ติดต่อ" not in rows[0]
    assert cli("export", "organizations", "--scope", "province:99").exit_code != 0


def test_xlsx_goes_on_in_a_second_sheet_past_excels_row_limit(data, frozen_now, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_ROWS", 3)  # a header and two rows a sheet
    out = exports.export(data, "reports", Scope.NATIONAL, fmt="xlsx", personal=False, now=frozen_now)
    book = load_workbook(io.BytesIO(b"".join(out.chunks)), read_only=True)
    assert book.sheetnames == ["รายงานกิจกรรม", "รายงานกิจกรรม 2"]
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    assert [len(rows) for rows in sheets] == [3, 2] and sheets[1][0] == sheets[0][0]


def test_typed_text_never_becomes_a_formula(data, frozen_now):
    """Names and descriptions come from chat: '=HYPERLINK(…)' must open as text, and a Thai list
    '- ประชุม…' must not open as #NAME?."""
    org = org_in(data, '=HYPERLINK("http://x.example","คลิก")', "50")
    leader = person(data, "U" + "9" * 32)
    report = report_on(data, org, leader, date(2026, 11, 6), participants=5)
    report.description = "- ประชุมกรรมการ\n- วางแผนออมทรัพย์"
    data.commit()
    rows = read_csv(exports.export(data, "organizations", CHIANG_MAI, personal=False, now=frozen_now))
    names = [dict(zip(rows[0], r))["ชื่อองค์กร"] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x.example\",\"คลิก\")" in names
    reports = read_csv(exports.export(data, "reports", CHIANG_MAI, personal=False, now=frozen_now))
    assert any(cell.startswith("'- ประชุมกรรมการ") for row in reports for cell in row)
    assert all(not cell.startswith("'1") for row in reports for cell in row)  # numbers stay numbers

    book = load_workbook(io.BytesIO(b"".join(exports.export(
        data, "organizations", CHIANG_MAI, fmt="xlsx", personal=False, now=frozen_now).chunks)))
    sheet = book.worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert len(cells) == 1 and cells[0].data_type == "s" and cells[0].value.startswith("=HYPERLINK")
