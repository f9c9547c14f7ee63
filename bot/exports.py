"""Exports: organizations, activity reports, delegates and assembly results as CSV or XLSX, streamed.

`export(session, kind, scope, fmt=..., personal=..., now=...)` returns an `Export`: a file name
naming the kind, the scope and the Bangkok date in the Buddhist era
(`reports_province-50_2569-11-18.xlsx`), a MIME type, and `chunks`, an iterator of bytes produced
while it is read. Rows are read with `yield_per` (a server-side cursor on PostgreSQL), so a million
reports leave memory flat: CSV is written a batch of rows at a time (UTF-8 with a BOM, so Excel
reads Thai), XLSX through openpyxl's write-only workbook into a temporary file, streamed and then
deleted. Consume `chunks` while the session is open, in the session's transaction.

Who may export what is the caller's decision (the console, `khabuan export`): `personal=False`
leaves out every column naming or reaching a person (names, phones). Counts follow the chat: live
reports only (a withdrawn report is not exported), a secret ballot's breakdown exactly as
`assembly.breakdown_cells` masks it ("fewer than 3", "not shown"), results of closed items only
(an open item shows only its turnout in chat). Column headers are in the requested language.

Domain level: reads the models through `scopes` and `assembly`; writes nothing to the database.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from . import scopes
from .assembly import tally
from .cards.assembly import OUTCOME_TEXT, cell_text, option_labels
from .data import label as data_label
from .data import load_organization_types
from .i18n import N_, _, use_locale
from .models import (
    ActivityReport,
    AgendaItem,
    ItemStatus,
    Member,
    Organization,
    OrgStatus,
    Province,
    ProvinceGroup,
    Region,
    Role,
    RoleGrant,
    ScopeKind,
    StrategicIssue,
)
from .models.organizations import organization_issues
from .reports import ACTIVITY_LABELS, BUDGET_SOURCE_LABELS
from .scopes import Scope, in_scope
from .thai import BE_OFFSET, format_phone

KINDS = ("organizations", "reports", "delegates", "results")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BATCH = 2_000  # rows read per fetch, and CSV rows per chunk
FILE_CHUNK = 64 * 1024
BANGKOK = ZoneInfo("Asia/Bangkok")


class ExportError(ValueError):
    pass


@dataclass
class Export:
    filename: str
    mimetype: str
    chunks: Iterator[bytes]


def filename(kind: str, scope: Scope, day: date, fmt: str) -> str:
    """`reports_province-50_2569-11-18.xlsx`: kind, scope, Bangkok date in the Buddhist era."""
    where = "national" if scope.is_national else f"{scope.kind.value}-{scope.code}"
    return f"{kind}_{where}_{day.year + BE_OFFSET:04d}-{day.month:02d}-{day.day:02d}.{fmt}"


def export(session: Session, kind: str, scope: Scope, *, fmt: str = "csv", personal: bool, now: datetime,
           locale: str = "th", tz: ZoneInfo = BANGKOK) -> Export:
    if kind not in KINDS:
        raise ExportError(f"unknown export {kind!r}: one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: csv or xlsx")
    table = TABLES[kind]
    with use_locale(locale):
        headers, sheet = table(session, scope, personal=personal, tz=tz, locale=locale)
        sheet_title = _(SHEET_TITLES[kind])
    rows = _in_locale(locale, sheet)
    chunks = _csv(headers, rows) if fmt == "csv" else _xlsx(headers, rows, sheet_title)
    return Export(filename(kind, scope, now.astimezone(tz).date(), fmt), FORMATS[fmt], chunks)


def _in_locale(locale: str, rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """Rows produced with the export's language active (labels are translated as rows are made)."""
    iterator = iter(rows)
    while True:
        with use_locale(locale):
            try:
                row = next(iterator)
            except StopIteration:
                return
        yield row


# ---- writers --------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is int:
        return str(value)
    if kind is datetime:
        return value.strftime("%Y-%m-%d %H:%M")
    if kind is date:
        return value.isoformat()
    if kind is bool:
        return "1" if value else "0"
    return str(value)


# Text people typed in chat (an organization's name, a report's description) opens in a spreadsheet:
# a cell starting with one of these would be read as a formula (=HYPERLINK(...) runs on opening; a
# Thai list "- ประชุม…" shows #NAME?). CSV cells get a leading apostrophe, which Excel and LibreOffice
# show as plain text; XLSX cells are stored as text whatever they start with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Any) -> str:
    text = _text(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_STARTS) else text


def _csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    pending = 0
    first = True
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        pending += 1
        if pending >= BATCH:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode("utf-8")
            first = False
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode("utf-8")


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: Bangkok wall time
    return value


XLSX_ROWS = 1_048_576  # Excel's rows per sheet, the header included


def _xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> Iterator[bytes]:
    """A write-only workbook (rows go to a temporary file as they come), then the file in chunks.
    Past Excel's 1,048,576 rows a sheet, the rows go on in a second sheet ("… 2"), header again."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def new_sheet(number: int):  # type: ignore[no-untyped-def]
        name = title if number == 1 else f"{title[:27]} {number}"
        sheet = workbook.create_sheet(name[:31])
        heading = []
        for text in headers:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            heading.append(cell)
        sheet.append(heading)
        sheet.freeze_panes = "A2"
        return sheet

    number, sheet, used = 1, new_sheet(1), 1
    handle, path = tempfile.mkstemp(prefix="khabuan-export-", suffix=".xlsx")
    os.close(handle)
    try:
        for row in rows:
            if used >= XLSX_ROWS:
                number += 1
                sheet, used = new_sheet(number), 1
            cells = []
            for value in row:
                if isinstance(value, (date, datetime)):
                    cell = WriteOnlyCell(sheet, value=_cell(value))
                    cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
                    cells.append(cell)
                elif isinstance(value, str) and value.startswith("="):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"  # text, never a formula (see FORMULA_STARTS)
                    cells.append(cell)
                else:
                    cells.append(_cell(value))
            sheet.append(cells)
            used += 1
        workbook.save(path)
        with open(path, "rb") as file:
            while chunk := file.read(FILE_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


# ---- tables -----------------------------------------------------------------------------------------

Table = Callable[..., tuple[list[str], Iterable[list[Any]]]]


def _stream(session: Session, query: Any) -> Iterator[list[Any]]:
    """Rows in batches from a server-side cursor (PostgreSQL) or a plain one (SQLite)."""
    for partition in session.execute(query.execution_options(yield_per=BATCH)).partitions():
        yield from partition  # type: ignore[misc]


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


@lru_cache(maxsize=65_536)
def _phone(digits: str | None) -> str | None:
    """081-234-5678 (so a spreadsheet keeps the leading 0); cached: libphonenumber is slow, and one
    author's phone recurs on every report they sent."""
    return format_phone(digits) if digits else None


STATUS_TEXT = {OrgStatus.PENDING: N_("export.status.pending"), OrgStatus.CERTIFIED: N_("export.status.certified"),
               OrgStatus.REJECTED: N_("export.status.rejected")}


def _status(status: OrgStatus) -> str:
    return _(STATUS_TEXT[status])


def organizations(session: Session, scope: Scope, *, personal: bool, tz: ZoneInfo, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    headers = [_("export.col.org_id"), _("export.col.org_name"), _("export.col.org_type"),
               _("export.col.province_code"), _("export.col.province"), _("export.col.locality"),
               _("export.col.members"), _("export.col.founded"), _("export.col.issues"), _("export.col.status"),
               _("export.col.registered_at"), _("export.col.decided_at")]
    if personal:
        headers += [_("export.col.contact_name"), _("export.col.contact_phone")]
    contact = aliased(Member)
    columns = [Organization.id, Organization.name, Organization.org_type, Province.code, Province.name_th,
               Province.name_en, Organization.locality, Organization.member_count, Organization.founded_year,
               Organization.status, Organization.created_at, Organization.decided_at]
    if personal:
        columns += [func.coalesce(contact.full_name, contact.display_name), Organization.contact_phone]
    query = select(*columns).join(Organization.province).where(in_scope(Organization.province_id, scope))
    if personal:
        query = query.outerjoin(contact, contact.id == Organization.contact_member_id)
    query = query.order_by(Organization.id)

    def rows() -> Iterator[list[Any]]:
        types = {t.code: t for t in load_organization_types()}
        en = locale == "en"
        issue_name = StrategicIssue.name_en if en else StrategicIssue.name_th
        for partition in session.execute(query.execution_options(yield_per=BATCH)).partitions():
            ids = [r[0] for r in partition]
            issues: dict[int, list[str]] = {}
            for org_id, name in session.execute(
                    select(organization_issues.c.organization_id, issue_name)
                    .join(StrategicIssue, StrategicIssue.id == organization_issues.c.issue_id)
                    .where(organization_issues.c.organization_id.in_(ids))
                    .order_by(organization_issues.c.organization_id, StrategicIssue.sort_order)):
                issues.setdefault(org_id, []).append(name)
            for r in partition:
                kind = types.get(r[2])
                row = [r[0], r[1], data_label(kind, "en" if en else "th") if kind else r[2], r[3],
                       r[5] if en else r[4], r[6], r[7], r[8], ", ".join(issues.get(r[0], [])), _status(r[9]),
                       _local(r[10], tz), _local(r[11], tz)]
                if personal:
                    row += [r[12], _phone(r[13])]
                yield row

    return headers, rows()


def reports(session: Session, scope: Scope, *, personal: bool, tz: ZoneInfo, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    headers = [_("export.col.report_id"), _("export.col.activity_date"), _("export.col.org_id"),
               _("export.col.org_name"), _("export.col.province_code"), _("export.col.province"),
               _("export.col.activity_type"), _("export.col.issue"), _("export.col.participants"),
               _("export.col.baht"), _("export.col.budget_source"), _("export.col.description"),
               _("export.col.address"), _("export.col.latitude"), _("export.col.longitude"),
               _("export.col.reported_at")]
    if personal:
        headers += [_("export.col.author_name"), _("export.col.author_phone")]
    en = locale == "en"
    columns = [ActivityReport.id, ActivityReport.activity_date, Organization.id, Organization.name, Province.code,
               Province.name_en if en else Province.name_th, ActivityReport.activity_type,
               StrategicIssue.name_en if en else StrategicIssue.name_th, ActivityReport.participants,
               ActivityReport.budget, ActivityReport.budget_source, ActivityReport.description,
               ActivityReport.address, ActivityReport.latitude, ActivityReport.longitude, ActivityReport.created_at]
    if personal:
        columns += [func.coalesce(Member.full_name, Member.display_name), Member.phone]
    query = (select(*columns).select_from(ActivityReport).join(ActivityReport.organization)
             .join(Organization.province).outerjoin(StrategicIssue, StrategicIssue.id == ActivityReport.issue_id)
             .where(ActivityReport.withdrawn_at.is_(None), in_scope(Organization.province_id, scope)))
    if personal:
        query = query.join(Member, Member.id == ActivityReport.author_id)
    query = query.order_by(ActivityReport.id)

    activity = {kind: _(key) for kind, key in ACTIVITY_LABELS.items()}
    source = {kind: _(key) for kind, key in BUDGET_SOURCE_LABELS.items()}
    source[None] = None

    def rows() -> Iterator[list[Any]]:
        for r in _stream(session, query):
            row = [r[0], r[1], r[2], r[3], r[4], r[5], activity[r[6]], r[7], r[8], r[9], source[r[10]], r[11],
                   r[12], r[13], r[14], _local(r[15], tz)]
            if personal:
                row += [r[16], _phone(r[17])]
            yield row

    return headers, rows()


def delegates(session: Session, scope: Scope, *, personal: bool, tz: ZoneInfo, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    """The assembly's seats held inside the scope (a region's seat, its groups' and its provinces')."""
    headers = [_("export.col.seat_kind"), _("export.col.seat_code"), _("export.col.seat_name"),
               _("export.col.region"), _("export.col.granted_at")]
    if personal:
        headers += [_("export.col.delegate_name"), _("export.col.delegate_phone")]
    en = locale == "en"
    names: dict[tuple[ScopeKind, str], tuple[str, str | None]] = {}
    for code, th, eng in session.execute(select(Region.code, Region.name_th, Region.name_en)):
        names[(ScopeKind.REGION, code)] = (eng if en else th, eng if en else th)
    for code, th, eng, r_th, r_en in session.execute(
            select(ProvinceGroup.code, ProvinceGroup.name_th, ProvinceGroup.name_en, Region.name_th, Region.name_en)
            .join(ProvinceGroup.region)):
        names[(ScopeKind.GROUP, code)] = (eng if en else th, r_en if en else r_th)
    for code, th, eng, r_th, r_en in session.execute(
            select(Province.code, Province.name_th, Province.name_en, Region.name_th, Region.name_en)
            .join(Province.group).join(ProvinceGroup.region)):
        names[(ScopeKind.PROVINCE, code)] = (eng if en else th, r_en if en else r_th)
    query = (select(RoleGrant.scope_kind, RoleGrant.scope_code, RoleGrant.granted_at,
                    func.coalesce(Member.full_name, Member.display_name), Member.phone)
             .join(Member, Member.id == RoleGrant.member_id)
             .where(RoleGrant.role == Role.DELEGATE,
                    RoleGrant.scope_kind.in_((ScopeKind.REGION, ScopeKind.GROUP, ScopeKind.PROVINCE)),
                    Member.active.is_(True), Member.erased_at.is_(None))
             .order_by(case(_WIDEST_FIRST, value=RoleGrant.scope_kind), RoleGrant.scope_code, RoleGrant.id))
    kinds = {ScopeKind.REGION: _("export.seat.region"), ScopeKind.GROUP: _("export.seat.group"),
             ScopeKind.PROVINCE: _("export.seat.province")}

    def rows() -> Iterator[list[Any]]:
        places: dict[Scope, scopes.Place | None] = {}
        for kind, code, granted_at, name, phone in _stream(session, query):
            seat = Scope(kind, code)
            if seat not in places:
                places[seat] = scopes.place_of(session, seat)
            place = places[seat]
            if place is None or not _seat_inside(scope, place):
                continue
            seat_name, region = names.get((kind, code), (code, None))
            row = [kinds[kind], code, seat_name, region, _local(granted_at, tz)]
            if personal:
                row += [name, _phone(phone)]
            yield row

    return headers, rows()


_WIDEST_FIRST = {ScopeKind.REGION: 0, ScopeKind.GROUP: 1, ScopeKind.PROVINCE: 2}


def _seat_inside(scope: Scope, place: scopes.Place) -> bool:
    """A seat is inside a scope when its place is: a region's seat is inside the nation and that
    region only; a group's seat inside its region and itself; a province's inside all above it."""
    if scope.is_national:
        return True
    if scope.kind is ScopeKind.REGION:
        return place.region == scope.code
    if scope.kind is ScopeKind.GROUP:
        return place.group == scope.code
    return place.province == scope.code


def results(session: Session, scope: Scope, *, personal: bool, tz: ZoneInfo, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    """Closed items' results, one row per item, region and option: the item's totals first (region
    "all"), then each region's cell as the chat shows it. The assembly is national, and its results
    go to every group that follows them, so every scope exports the same rows; nobody's vote is in
    it, so `personal` changes nothing."""
    headers = [_("export.col.item_id"), _("export.col.session"), _("export.col.item"), _("export.col.closed_at"),
               _("export.col.secret"), _("export.col.region"), _("export.col.eligible"), _("export.col.voted"),
               _("export.col.option"), _("export.col.votes"), _("export.col.quorum_met"), _("export.col.outcome")]
    query = (select(AgendaItem.id).where(AgendaItem.status == ItemStatus.CLOSED)
             .order_by(AgendaItem.closed_at, AgendaItem.id))

    def rows() -> Iterator[list[Any]]:
        en = locale == "en"
        yes, no, everyone = _("export.yes"), _("export.no"), _("export.all_regions")
        for item_id in list(session.scalars(query)):
            item = session.get(AgendaItem, item_id)
            assert item is not None
            result = tally(session, item)
            labels = option_labels(item)
            outcome = _(OUTCOME_TEXT[result.decision.outcome])
            if item.custom_options and result.decision.winner is not None:
                outcome = _("vote.outcome_option", option=labels[result.decision.winner])
            common = [item.id, item.session.name, item.title, _local(item.closed_at, tz), yes if item.secret else no]
            for index, label in enumerate(labels):
                yield [*common, everyone, result.eligible, result.voted, label, result.counts[index],
                       yes if result.decision.quorum_met else no, outcome]
            for row in result.breakdown:
                for label, cell in zip(labels, row.cells):
                    yield [*common, row.tally.name("en" if en else "th"), row.tally.eligible, row.tally.voted,
                           label, cell if isinstance(cell, int) else cell_text(cell, "en" if en else "th"), None, None]
            session.expire(item)

    return headers, rows()


TABLES: dict[str, Table] = {"organizations": organizations, "reports": reports, "delegates": delegates,
                            "results": results}
SHEET_TITLES = {"organizations": N_("export.sheet.organizations"), "reports": N_("export.sheet.reports"),
                "delegates": N_("export.sheet.delegates"), "results": N_("export.sheet.results")}
