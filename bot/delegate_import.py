"""`khabuan delegates import FILE`: seat the assembly from the secretariat's list (CSV or XLSX).

Columns: name, phone, seat (Thai headers ชื่อ, โทรศัพท์/เบอร์โทร, ที่นั่ง are read too). A seat is
`province:50`, `group:lanna_west`, `region:north`, or a bare code (a province, group or region code).
All or nothing: every problem is listed with its row number (the header is row 1) and nothing is
saved while one remains — an unknown code, a seat over the formula (counting the seats already held
or waiting outside the file), a phone twice in the file, a phone that is not a Thai number.
Members registered with the phone get the seat (confirmed: the operator acts as the national
office); the others get an invitation that attaches when they register. Importing the same file
again changes nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import appointments, thai
from .appointments import Done
from .assembly import SEATS
from .models import AuditVia, Member, Province, ProvinceGroup, Region, Role, ScopeKind
from .scopes import Scope, ScopeError

HEADERS = {
    "name": ("name", "ชื่อ", "ชื่อ-สกุล", "ชื่อสกุล", "ชื่อ นามสกุล"),
    "phone": ("phone", "โทรศัพท์", "เบอร์โทร", "เบอร์โทรศัพท์", "เบอร์"),
    "seat": ("seat", "ที่นั่ง", "code", "รหัส"),
}


@dataclass(frozen=True)
class Row:
    number: int
    name: str
    phone: str
    seat: str


class ImportProblems(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Report:
    seated: int = 0  # registered members given their seat (or whose nomination was confirmed)
    invited: int = 0  # invitations created
    unchanged: int = 0  # already so
    outbox: list[int] = field(default_factory=list)


def read_rows(path: Path) -> list[Row]:
    """The file's rows (CSV, any common encoding; or XLSX's first sheet); ImportProblems if unreadable."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
            raise ImportProblems([f"cannot read {path.name} as a spreadsheet: {exc}"]) from None
        try:
            sheet = book.worksheets[0]
            table = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp874"):
            try:
                content = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportProblems([f"cannot read {path.name}: save it as UTF-8 CSV"])
        table = [list(r) for r in csv.reader(io.StringIO(content))]
    return rows_of(table)


def _cell(value: object) -> str:
    """A spreadsheet cell as text. A phone typed into a number cell lost its leading 0
    (0891110003 → 891110003): 8 or 9 digits get it back; a seat code like 50 stays 50."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        digits = str(int(value))
        return "0" + digits if len(digits) in (8, 9) else digits
    return str(value)


def rows_of(table: list[list[str]]) -> list[Row]:
    if not table:
        raise ImportProblems(["the file is empty"])
    header = [thai.normalize(h).casefold() for h in table[0]]
    columns: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                columns[key] = i
                break
    missing = [k for k in HEADERS if k not in columns]
    if missing:
        raise ImportProblems([f"row 1: no {', '.join(missing)} column (the header must name name, phone, seat)"])
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        def cell(key: str) -> str:
            i = columns[key]
            return thai.clean_text(cells[i]) if i < len(cells) and cells[i] is not None else ""
        if not any(c.strip() for c in cells if c):
            continue  # a blank line
        rows.append(Row(number, cell("name"), cell("phone"), cell("seat")))
    return rows


def _seat_codes(session: Session) -> dict[str, list[Scope]]:
    codes: dict[str, list[Scope]] = {}
    for kind, model in ((ScopeKind.PROVINCE, Province), (ScopeKind.GROUP, ProvinceGroup), (ScopeKind.REGION, Region)):
        for code in session.scalars(select(model.code)):
            codes.setdefault(code.casefold(), []).append(Scope(kind, code))
    return codes


def _seat(text: str, codes: dict[str, list[Scope]]) -> Scope | None:
    text = text.strip()
    if ":" in text:
        try:
            scope = Scope.parse(text.casefold())
        except ScopeError:
            return None
        found = [s for s in codes.get(scope.code, []) if s.kind is scope.kind]
        return found[0] if found else None
    found = codes.get(text.casefold(), [])
    return found[0] if len(found) == 1 else None


def import_delegates(session: Session, rows: list[Row], *, now: datetime, via: AuditVia = AuditVia.IMPORT) -> Report:
    """Check every row, then seat or invite (in the caller's transaction); ImportProblems lists every
    problem and nothing is changed."""
    problems: list[str] = []
    codes = _seat_codes(session)
    seen_phones: dict[str, int] = {}
    checked: list[tuple[Row, str, Scope]] = []
    for row in rows:
        phone = thai.parse_phone(row.phone) if row.phone else None
        scope = _seat(row.seat, codes) if row.seat else None
        if not row.name:
            problems.append(f"row {row.number}: no name")
        if phone is None:
            problems.append(f"row {row.number}: {row.phone or '(empty)'} is not a Thai phone number")
        elif phone in seen_phones:
            problems.append(f"row {row.number}: phone already on row {seen_phones[phone]}")
        else:
            seen_phones[phone] = row.number
        if scope is None:
            problems.append(f"row {row.number}: unknown seat code {row.seat or '(empty)'!r}")
        if phone is not None and scope is not None:
            checked.append((row, phone, scope))

    members = {m.phone: m for m in session.scalars(select(Member).where(
        Member.phone.in_(list(seen_phones)), Member.registered_at.is_not(None), Member.erased_at.is_(None)))}
    holders = appointments.seat_holders(session, now)
    # Who is in each area after the import: those already there plus the file's new ones
    # (a member by id, someone invited by phone).
    occupants = {scope: {h.key for h in held} for scope, held in holders.items()}
    for row, phone, scope in checked:
        member = members.get(phone)
        key = f"m{member.id}" if member is not None else f"p{phone}"
        keys = occupants.setdefault(scope, set())
        if key in keys:
            continue  # already holds (or is invited to) this seat: unchanged
        keys.add(key)
        if len(keys) > SEATS[scope.kind]:
            problems.append(f"row {row.number}: {scope} has {SEATS[scope.kind]} seats; this would be seat {len(keys)}")
    if problems:
        raise ImportProblems(problems)

    report = Report()
    for row, phone, scope in checked:
        outcome = appointments.appoint(session, None, role=Role.DELEGATE, scope=scope, via=via, now=now,
                                       member=members.get(phone), phone=phone, name=row.name)
        if outcome.done is Done.ALREADY:
            report.unchanged += 1
        elif outcome.done is Done.INVITED:
            report.invited += 1
        else:
            report.seated += 1
        report.outbox += outcome.outbox
    return report

