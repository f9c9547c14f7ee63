"""`khabuan agenda import FILE`: a long agenda from YAML or CSV, checked whole before anything is saved.

YAML:
    session: {name: "สมัชชาขบวนองค์กรชุมชนแห่งชาติ 2569", date: 2026-12-12, place: "กรุงเทพฯ"}
    items:
      - title: "รับรองรายงานการประชุมครั้งที่แล้ว"
        description: "…"                       # optional, ≤ 1000 characters
        options: [แผน ก, แผน ข, งดออกเสียง]     # optional; default approve / reject / abstain
        secret: true                           # default true
        quorum: 50                             # more than this % of eligible delegates must vote
        rule: majority                         # or two_thirds
        opens_at: 2026-12-12 09:00             # Bangkok time unless an offset is given
        closes_at: 2026-12-12 12:00
        allow_change: false

CSV: one item per row, columns session_name, session_date, session_place, title, description,
options ("|"-separated), secret, quorum, rule, opens_at, closes_at, allow_change. Rows with the
same session_name/session_date belong to one session.

A session with the same name and date as an existing one gets the items appended, so an agenda
can be imported in parts. Every problem is reported with its item number; nothing is saved then.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import assembly, thai
from .i18n import _, use_locale
from .models import AgendaItem, AssemblySession, DecisionRule
from .models.assembly import MAX_DESCRIPTION, MAX_OPTIONS, MAX_OPTION_LABEL

TRUE = {"true", "yes", "1", "y", "ใช่", "ลับ", "secret"}
FALSE = {"false", "no", "0", "n", "ไม่", "ไม่ใช่", "เปิดเผย", "open", ""}


class AgendaFileError(ValueError):
    """The file cannot be imported; `problems` lists every reason, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ItemSpec:
    title: str
    description: str
    options: list[str] | None
    abstain_index: int | None
    secret: bool
    quorum: int
    rule: DecisionRule
    opens_at: datetime
    closes_at: datetime
    allow_change: bool


@dataclass
class SessionSpec:
    name: str
    held_on: date
    place: str
    items: list[ItemSpec] = field(default_factory=list)


def _bool(value: Any, default: bool, where: str, problems: list[str]) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in TRUE:
        return True
    if text in FALSE:
        return default if text == "" else False
    problems.append(f"{where}: {value!r} is not yes/no")
    return default


def _moment(value: Any, where: str, today: date, tz: ZoneInfo, problems: list[str]) -> datetime | None:
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp itself
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(timezone.utc)
    moment = thai.parse_datetime(str(value or ""), today=today, tz=tz)
    if moment is None:
        problems.append(f"{where}: cannot read the date and time {value!r} (e.g. 2026-12-12 09:00)")
    return moment


def _item(raw: dict[str, Any], where: str, today: date, tz: ZoneInfo, problems: list[str]) -> ItemSpec | None:
    before = len(problems)
    title = str(raw.get("title") or "").strip()
    if not 3 <= len(title) <= 200:
        problems.append(f"{where}: title must be 3–200 characters")
    description = str(raw.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"{where}: description is {len(description)} characters; the limit is {MAX_DESCRIPTION}")
    options: list[str] | None = None
    abstain: int | None = assembly.DEFAULT_ABSTAIN
    raw_options = raw.get("options")
    if raw_options:
        listed = raw_options if isinstance(raw_options, list) else str(raw_options).split("|")
        parsed = assembly.parse_option_lines("\n".join(str(o) for o in listed))
        if isinstance(parsed, str):
            with use_locale("en"):
                problems.append(f"{where}: {_(parsed, max=MAX_OPTIONS, length=MAX_OPTION_LABEL)}")
        else:
            options, abstain = parsed
    quorum_raw = raw.get("quorum", 50)
    try:
        quorum = int(str(quorum_raw).rstrip("%").strip() or 50)
    except ValueError:
        quorum = -1
    if not 0 <= quorum <= 99:
        problems.append(f"{where}: quorum {quorum_raw!r} must be a percentage from 0 to 99")
    try:
        rule = DecisionRule(str(raw.get("rule") or "majority").strip().lower().replace("-", "_"))
    except ValueError:
        problems.append(f"{where}: rule must be majority or two_thirds")
        rule = DecisionRule.MAJORITY
    opens = _moment(raw.get("opens_at"), f"{where} opens_at", today, tz, problems)
    closes = _moment(raw.get("closes_at"), f"{where} closes_at", today, tz, problems)
    if opens and closes and closes <= opens:
        problems.append(f"{where}: closes_at must be after opens_at")
    secret = _bool(raw.get("secret"), True, f"{where} secret", problems)
    allow_change = _bool(raw.get("allow_change"), False, f"{where} allow_change", problems)
    if len(problems) > before or opens is None or closes is None:
        return None
    return ItemSpec(title, description, options, abstain, secret, quorum, rule, opens, closes, allow_change)


def _session(raw: dict[str, Any], where: str, problems: list[str]) -> SessionSpec | None:
    name = str(raw.get("name") or "").strip()
    place = str(raw.get("place") or "").strip()
    held = raw.get("date")
    if isinstance(held, datetime):
        held = held.date()
    if not isinstance(held, date):
        try:
            held = date.fromisoformat(str(held or "").strip())
        except ValueError:
            problems.append(f"{where}: date {raw.get('date')!r} must look like 2026-12-12")
            return None
    if not 3 <= len(name) <= 200 or not 2 <= len(place) <= 200:
        problems.append(f"{where}: a session needs a name (3–200 characters) and a place")
        return None
    return SessionSpec(name, held, place)


def parse_file(path: Path, *, today: date, tz: ZoneInfo) -> list[SessionSpec]:
    text = path.read_text(encoding="utf-8-sig")  # Excel's CSV starts with a BOM
    problems: list[str] = []
    sessions: list[SessionSpec] = []
    if path.suffix.lower() == ".csv":
        by_key: dict[tuple[str, str], SessionSpec] = {}
        for n, row in enumerate(csv.DictReader(io.StringIO(text)), start=1):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            key = (row.get("session_name", ""), row.get("session_date", ""))
            if key not in by_key:
                spec = _session({"name": key[0], "date": key[1], "place": row.get("session_place")},
                                f"row {n}", problems)
                if spec is None:
                    continue
                by_key[key] = spec
                sessions.append(spec)
            item = _item(row, f"row {n}", today, tz, problems)
            if item:
                by_key[key].items.append(item)
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise AgendaFileError([f"not valid YAML: {exc}"]) from None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise AgendaFileError(["the YAML needs a 'session' mapping and an 'items' list"])
        spec = _session(data.get("session") or {}, "session", problems)
        if spec is not None:
            sessions.append(spec)
            for n, raw in enumerate(data["items"], start=1):
                item = _item(raw if isinstance(raw, dict) else {}, f"item {n}", today, tz, problems)
                if item:
                    spec.items.append(item)
    if not problems and not any(s.items for s in sessions):
        problems.append("no agenda items in the file")
    if problems:
        raise AgendaFileError(problems)
    return sessions


def save(db: Session, sessions: list[SessionSpec]) -> list[AgendaItem]:
    """Create (or extend) the sessions and their items; the caller owns the transaction."""
    created: list[AgendaItem] = []
    for spec in sessions:
        session = db.scalar(select(AssemblySession).where(AssemblySession.name == spec.name,
                                                          AssemblySession.held_on == spec.held_on))
        if session is None:
            session = AssemblySession(name=spec.name, held_on=spec.held_on, place=spec.place)
            db.add(session)
            db.flush()
        position = db.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.session_id == session.id)) or 0
        for item in spec.items:
            position += 1
            row = AgendaItem(session=session, position=position, token=assembly.new_token(), title=item.title,
                             description=item.description, custom_options=item.options,
                             abstain_index=item.abstain_index, secret=item.secret, quorum_percent=item.quorum,
                             rule=item.rule, opens_at=item.opens_at, closes_at=item.closes_at,
                             allow_change=item.allow_change)
            db.add(row)
            created.append(row)
    db.flush()
    return created
