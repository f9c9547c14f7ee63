"""The audit log: one writer, read by scope, append-only in the database, and it outlives erasure."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from bot import audit
from bot.erasure import erase_member
from bot.models import AuditAction, AuditEntry, AuditVia, Province, Role, ScopeKind
from bot.scopes import Scope

from .helpers import person

ERASED = "สมาชิกที่ลบข้อมูลแล้ว"


def _seed(db, now):
    admin = person(db, "U" + "a" * 32)
    chiang_mai = person(db, "U" + "b" * 32, province="50")
    khon_kaen = person(db, "U" + "d" * 32, province="40")
    db.flush()
    audit.record(db, action=AuditAction.GRANT, via=AuditVia.CHAT, now=now - timedelta(days=2),
                 actor=admin, subject=chiang_mai, role=Role.COORDINATOR, scope=Scope.parse("province:50"))
    audit.record(db, action=AuditAction.GRANT, via=AuditVia.CLI, now=now - timedelta(days=1),
                 subject=khon_kaen, role=Role.DELEGATE, scope=Scope.parse("province:40"))
    audit.record(db, action=AuditAction.GRANT, via=AuditVia.CHAT, now=now,
                 actor=admin, subject=admin, role=Role.SECRETARIAT, scope=Scope.NATIONAL)
    db.commit()
    return admin, chiang_mai, khon_kaen


def test_entries_are_read_within_a_scope_newest_first(db, frozen_now):
    _seed(db, frozen_now)
    everything = audit.entries(db)
    assert [e.scope for e in everything] == ["national", "province:40", "province:50"]
    assert [e.scope for e in audit.entries(db, within=Scope.parse("province:50"))] == ["province:50"]
    # Chiang Mai (50) is in the north; Khon Kaen (40) is not; a national grant is in no region's scope.
    north = audit.entries(db, within=Scope.parse("region:north"))
    assert [e.scope for e in north] == ["province:50"]
    assert [e.scope for e in audit.entries(db, since=frozen_now - timedelta(hours=36))] == ["national", "province:40"]
    assert len(audit.entries(db, limit=1)) == 1


def test_entries_found_by_a_members_name_or_phone(db, frozen_now):
    _, chiang_mai, _ = _seed(db, frozen_now)
    chiang_mai.full_name, chiang_mai.phone = "บุญมี ศรีสุข", "0899990000"
    db.commit()
    assert [e.subject_id for e in audit.entries(db, member="บุญมี")] == [chiang_mai.id]
    assert [e.subject_id for e in audit.entries(db, member="0899990000")] == [chiang_mai.id]
    assert audit.entries(db, member="ไม่มีใครชื่อนี้") == []


def test_details_hold_ids_and_codes_never_free_text(db, frozen_now):
    with pytest.raises(ValueError):
        audit.record(db, action=AuditAction.EXPORT, via=AuditVia.CONSOLE, now=frozen_now,
                     details={"note": "ส่งให้คุณสมศรี 081-234-5678"})
    entry = audit.record(db, action=AuditAction.EXPORT, via=AuditVia.CONSOLE, now=frozen_now,
                         scope=Scope.parse("province:50"), details={"kind": "reports", "rows": 120})
    db.commit()
    assert entry.details == {"kind": "reports", "rows": 120}


def test_the_database_refuses_to_change_an_entry(db, frozen_now):
    _seed(db, frozen_now)
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(update(AuditEntry).values(role="admin"))
    db.rollback()
    if db.get_bind().dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(delete(AuditEntry))
        db.rollback()
    assert db.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 3


def test_no_code_path_updates_or_deletes_the_log():
    """`bot.audit.record` is the only writer: no module builds an UPDATE or DELETE of audit_log."""
    import pathlib
    import re

    root = pathlib.Path(audit.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if re.search(r"(update|delete)\(\s*AuditEntry|(UPDATE|DELETE FROM)\s+audit_log", source):
            if path.name != "audit.py" or "models" not in path.parts:  # the trigger's own text
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_the_record_outlives_an_erased_member(db, frozen_now):
    admin, chiang_mai, _ = _seed(db, frozen_now)
    chiang_mai.full_name = "บุญมี ศรีสุข"
    db.commit()
    erase_member(db, chiang_mai, frozen_now)
    db.commit()
    rows = audit.entries(db, within=Scope.parse("province:50"))
    assert len(rows) == 1 and rows[0].subject_id == chiang_mai.id
    (line,) = audit.lines(rows, erased_label=ERASED, personal=True)
    assert line.subject == ERASED and line.actor == (admin.full_name or admin.display_name)
    assert line.role == "coordinator" and line.scope == "province:50" and line.action is AuditAction.GRANT
    (anonymous,) = audit.lines(rows, erased_label=ERASED, personal=False)
    assert anonymous.actor == f"#{admin.id}"


def test_entries_within_a_scope_are_filtered_and_limited_in_one_query(db, frozen_now):
    from sqlalchemy import event

    admin, chiang_mai, _ = _seed(db, frozen_now)
    # Newer entries outside the north, and one for a northern province group, come after.
    for hours in range(1, 6):
        audit.record(db, action=AuditAction.GRANT, via=AuditVia.CHAT, now=frozen_now + timedelta(hours=hours),
                     actor=admin, role=Role.DELEGATE, scope=Scope.parse("province:40"))
    group = db.scalar(select(Province).where(Province.code == "50")).group.code
    audit.record(db, action=AuditAction.GRANT, via=AuditVia.CHAT, now=frozen_now - timedelta(days=3),
                 actor=admin, subject=chiang_mai, role=Role.DELEGATE, scope=Scope(ScopeKind.GROUP, group))
    db.commit()
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.get_bind(), "before_cursor_execute", listen)
    try:
        north = audit.entries(db, within=Scope.parse("region:north"), limit=1)
        both = audit.entries(db, within=Scope.parse("region:north"))
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listen)
    assert [e.scope for e in north] == ["province:50"]  # the newest inside, past the five outside
    assert [e.scope for e in both] == ["province:50", f"group:{group}"]
    # The region's groups and provinces are read once; the log is never read row by row.
    log_reads = [s for s in statements if "audit_log" in s]
    assert len(log_reads) == 2 and "LIMIT" in log_reads[0].upper() and "LIMIT" not in log_reads[1].upper()
    assert len(statements) <= 7  # BEGIN, then per call: the groups, the provinces, the log
