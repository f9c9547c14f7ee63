"""`khabuan delegates import`, `delegates check`, `members find` and `audit`, through the CLI."""
from __future__ import annotations

import csv

from openpyxl import Workbook
from sqlalchemy import func, select

from bot.models import AuditAction, AuditEntry, AuditVia, Invitation, Province, ProvinceGroup, Region, Role, RoleGrant

from .helpers import registered

SEATED = 12  # of the 312 people, this many have registered already


def seat_codes(db) -> list[str]:
    """Every seat the formula gives, in file order: 3 per province, 2 per group, 5 per region."""
    seats = []
    for code in db.scalars(select(Province.code).order_by(Province.code)):
        seats += [f"province:{code}"] * 3
    for code in db.scalars(select(ProvinceGroup.code).order_by(ProvinceGroup.code)):
        seats += [f"group:{code}"] * 2
    for code in db.scalars(select(Region.code).order_by(Region.code)):
        seats += [f"region:{code}"] * 5
    return seats


def write_csv(path, rows, header=("name", "phone", "seat")):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_312_seats_import_once_and_again_changes_nothing(cli, db, tmp_path, frozen_now, emulator):
    seats = seat_codes(db)[:312]
    rows = [(f"ผู้แทน ลำดับ{i}", f"089{1000000 + i}", seat) for i, seat in enumerate(seats)]
    for i in range(SEATED):
        registered(db, "U" + f"{i:032d}", rows[i][0], rows[i][1])
    path = write_csv(tmp_path / "seats.csv", rows)

    first = cli("delegates", "import", str(path))
    assert first.exit_code == 0, first.output
    assert f"312 row(s): {SEATED} seated, {312 - SEATED} invited, 0 unchanged" in first.output
    db.rollback()
    assert db.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.role == Role.DELEGATE)) == SEATED
    assert db.scalar(select(func.count()).select_from(Invitation)) == 312 - SEATED
    invitation = db.scalar(select(Invitation).where(Invitation.phone == rows[100][1]))
    assert (invitation.name, f"{invitation.scope_kind.value}:{invitation.scope_code}", invitation.confirmed) == (
        rows[100][0], seats[100], True)
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.via == AuditVia.IMPORT)) == 312
    # Each seated member was told once, with what a delegate does now.
    for i in range(SEATED):
        told = emulator.messages_for("U" + f"{i:032d}")
        assert len(told) == 1 and "ผู้แทนสมัชชา" in told[0]["altText"]

    again = cli("delegates", "import", str(path))
    assert "0 seated, 0 invited, 312 unchanged" in again.output
    assert len(emulator.messages_for("U" + "0" * 32)) == 1  # nobody is told twice
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Invitation)) == 312 - SEATED
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 312

    check = cli("delegates", "check")
    assert f"seats filled: {SEATED}/315 confirmed; 0 nominated, waiting for the secretariat; " \
           f"{312 - SEATED} invited, waiting to register" in check.output
    chiang_mai = check.output.split("province 50")[1].splitlines()[0]
    assert chiang_mai.endswith("0/3  MISSING  (nominated 0, invited 3)")
    assert check.output.split("province 10")[1].splitlines()[0].endswith("3/3  ok")


def test_problems_are_all_listed_and_nothing_is_saved(cli, db, tmp_path, frozen_now):
    rows = [
        ("หนึ่ง คนแรก", "0891000001", "province:50"),
        ("สอง คนที่สอง", "0891000002", "50"),
        ("สาม คนที่สาม", "๐๘๙-๑๐๐-๐๐๐๓", "province:50"),  # Thai digits are fine
        ("สี่ เกินที่", "0891000004", "province:50"),  # a fourth seat for Chiang Mai
        ("ห้า ซ้ำ", "089 100 0001", "region:north"),  # the first row's phone again
        ("หก รหัสผิด", "0891000006", "province:99"),
        ("เจ็ด เบอร์ผิด", "12345", "group:lanna_west"),
    ]
    result = cli("delegates", "import", str(write_csv(tmp_path / "bad.csv", rows)))
    assert result.exit_code != 0
    out = result.output
    assert "nothing imported" in out
    assert "row 5: province:50 has 3 seats; this would be seat 4" in out
    assert "row 6: phone already on row 2" in out
    assert "row 7: unknown seat code 'province:99'" in out
    assert "row 8: 12345 is not a Thai phone number" in out
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Invitation)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_xlsx_with_thai_headers(cli, db, tmp_path, frozen_now):
    member = registered(db, "U" + "3" * 32, "บุญมี ศรีสุข", "0891110001")
    book = Workbook()
    sheet = book.active
    sheet.append(["ชื่อ", "เบอร์โทร", "ที่นั่ง"])
    sheet.append(["บุญมี ศรีสุข", "089-111-0001", "lanna_west"])
    sheet.append(["มานพ ทองดี", 891110003, "north"])  # a number cell loses its leading 0: still read
    path = tmp_path / "seats.xlsx"
    book.save(path)
    result = cli("delegates", "import", str(path))
    assert result.exit_code == 0, result.output
    db.rollback()
    assert [(g.role, g.scope) for g in db.scalars(select(RoleGrant).where(RoleGrant.member_id == member.id))] == [
        (Role.DELEGATE, "group:lanna_west")]


def test_members_find_and_audit(cli, db, frozen_now):
    member = registered(db, "U" + "3" * 32, "บุญมี ศรีสุข", "0891110001")
    registered(db, "U" + "4" * 32, "มานพ ทองดี", "0891110003", province="40")
    assert cli("grant", member.line_user_id, "coordinator", "--scope", "province:50").exit_code == 0
    found = cli("members", "find", "บุญ")
    assert member.line_user_id in found.output and "บุญมี ศรีสุข" in found.output and "เชียงใหม่" in found.output
    assert "coordinator(province:50)" in found.output and "มานพ" not in found.output
    assert "มานพ ทองดี" in cli("members", "find", "๐๘๙-๑๑๑-๐๐๐๓").output
    assert cli("members", "find", "ไม่มีใคร").output.strip() == "nobody found"

    assert cli("revoke", member.line_user_id, "coordinator").exit_code == 0
    log = cli("audit", "--member", "บุญมี").output.splitlines()
    assert len(log) == 2 and "revoke" in log[0] and "grant" in log[1] and "cli" in log[0]
    assert "บุญมี ศรีสุข" in log[0] and "province:50" in log[0]
    assert cli("audit", "--since", "2999-01-01").output.strip() == "no entries"
    assert cli("audit", "--since", "yesterday").exit_code != 0
    db.rollback()
    assert [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
        AuditAction.GRANT, AuditAction.REVOKE]
