"""Live activity reports counted per province, day and budget source, kept by the database itself.

The console's overview and the digest's chart sum a year of reports for a scope; over a million
reports that is a scan of the whole table on every page view. These rows hold the same sums
already made: one row per (province, activity date, budget source) with the number of live
reports, their participants and baht. Triggers keep them exact on every write, whatever code path
makes it (a new report, a correction, a withdrawal, a deleted organization or member, an
organization moved to another province), so nothing in the application has to remember to.
A row may fall back to zero reports; it is then simply not counted.

Only bot/stats.py reads it. `budget_source` is "" for an amount reported without a source.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import DDL, BigInteger, Date, ForeignKey, Index, Numeric, String, event
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ActivityDayTotal(Base):
    __tablename__ = "activity_day_totals"
    __table_args__ = (Index("ix_activity_day_totals_day", "day"),)

    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    budget_source: Mapped[str] = mapped_column(String(16), primary_key=True)
    reports: Mapped[int]
    participants: Mapped[int] = mapped_column(BigInteger)
    baht: Mapped[Decimal] = mapped_column(Numeric(16, 2))


# ---- the triggers (run by migration 0010; create_all gets them below, as for the audit log) ------

_UPSERT_PG = ("ON CONFLICT (province_id, day, budget_source) DO UPDATE SET reports = t.reports + EXCLUDED.reports, "
              "participants = t.participants + EXCLUDED.participants, baht = t.baht + EXCLUDED.baht")
_UPSERT_SQLITE = ("ON CONFLICT (province_id, day, budget_source) DO UPDATE SET reports = reports + excluded.reports, "
                  "participants = participants + excluded.participants, baht = baht + excluded.baht")
_COLUMNS = "(province_id, day, budget_source, reports, participants, baht)"
# The columns whose change moves a report's figures (an UPDATE of anything else changes no total).
_COUNTED = "organization_id, activity_date, budget_source, participants, budget, withdrawn_at"

TOTALS_POSTGRESQL = (
    # One report's figures, added (sign 1) or taken away (-1), under its organization's province.
    "CREATE OR REPLACE FUNCTION activity_day_totals_add(p_org integer, p_day date, p_source text, p_sign integer, "
    "p_people integer, p_baht numeric) RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
    f"INSERT INTO activity_day_totals AS t {_COLUMNS} "
    "SELECT o.province_id, p_day, COALESCE(p_source, ''), p_sign, p_sign * p_people, p_sign * COALESCE(p_baht, 0) "
    f"FROM organizations o WHERE o.id = p_org {_UPSERT_PG}; END $$",
    "CREATE OR REPLACE FUNCTION activity_reports_totals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.withdrawn_at IS NULL THEN "
    "PERFORM activity_day_totals_add(OLD.organization_id, OLD.activity_date, OLD.budget_source, -1, "
    "OLD.participants, OLD.budget); END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.withdrawn_at IS NULL THEN "
    "PERFORM activity_day_totals_add(NEW.organization_id, NEW.activity_date, NEW.budget_source, 1, "
    "NEW.participants, NEW.budget); END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER activity_reports_totals AFTER INSERT OR DELETE OR UPDATE OF "
    f"{_COUNTED} ON activity_reports FOR EACH ROW EXECUTE FUNCTION activity_reports_totals()",
    # An organization's live reports, summed, moved off its province (deleted: before its reports
    # go, which then find no organization and change nothing) or onto its new one (moved).
    "CREATE OR REPLACE FUNCTION activity_org_totals(p_org integer, p_province integer, p_sign integer) "
    "RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
    f"INSERT INTO activity_day_totals AS t {_COLUMNS} "
    "SELECT p_province, r.activity_date, COALESCE(r.budget_source, ''), p_sign * count(*), "
    "p_sign * sum(r.participants), p_sign * COALESCE(sum(r.budget), 0) FROM activity_reports r "
    "WHERE r.organization_id = p_org AND r.withdrawn_at IS NULL GROUP BY r.activity_date, r.budget_source "
    f"{_UPSERT_PG}; END $$",
    "CREATE OR REPLACE FUNCTION organizations_totals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN PERFORM activity_org_totals(OLD.id, OLD.province_id, -1); RETURN OLD; END IF; "
    "IF NEW.province_id IS DISTINCT FROM OLD.province_id THEN "
    "PERFORM activity_org_totals(OLD.id, OLD.province_id, -1); "
    "PERFORM activity_org_totals(NEW.id, NEW.province_id, 1); END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER organizations_totals_delete BEFORE DELETE ON organizations "
    "FOR EACH ROW EXECUTE FUNCTION organizations_totals()",
    "CREATE TRIGGER organizations_totals_move AFTER UPDATE OF province_id ON organizations "
    "FOR EACH ROW EXECUTE FUNCTION organizations_totals()",
)


def _sqlite_add(row: str, sign: int) -> str:
    return (f"INSERT INTO activity_day_totals {_COLUMNS} SELECT o.province_id, {row}.activity_date, "
            f"COALESCE({row}.budget_source, ''), {sign}, {sign} * {row}.participants, {sign} * COALESCE({row}.budget, 0) "
            f"FROM organizations o WHERE o.id = {row}.organization_id AND {row}.withdrawn_at IS NULL {_UPSERT_SQLITE};")


def _sqlite_org(province: str, sign: int) -> str:
    return (f"INSERT INTO activity_day_totals {_COLUMNS} SELECT {province}, r.activity_date, "
            f"COALESCE(r.budget_source, ''), {sign} * count(*), {sign} * sum(r.participants), "
            f"{sign} * COALESCE(sum(r.budget), 0) FROM activity_reports r WHERE r.organization_id = OLD.id "
            f"AND r.withdrawn_at IS NULL GROUP BY r.activity_date, r.budget_source {_UPSERT_SQLITE};")


TOTALS_SQLITE = (
    f"CREATE TRIGGER activity_reports_totals_insert AFTER INSERT ON activity_reports BEGIN {_sqlite_add('NEW', 1)} END",
    f"CREATE TRIGGER activity_reports_totals_delete AFTER DELETE ON activity_reports BEGIN {_sqlite_add('OLD', -1)} END",
    f"CREATE TRIGGER activity_reports_totals_update AFTER UPDATE OF {_COUNTED} ON activity_reports "
    f"BEGIN {_sqlite_add('OLD', -1)} {_sqlite_add('NEW', 1)} END",
    f"CREATE TRIGGER organizations_totals_delete BEFORE DELETE ON organizations BEGIN {_sqlite_org('OLD.province_id', -1)} END",
    "CREATE TRIGGER organizations_totals_move AFTER UPDATE OF province_id ON organizations "
    f"WHEN NEW.province_id IS NOT OLD.province_id BEGIN {_sqlite_org('OLD.province_id', -1)} "
    f"{_sqlite_org('NEW.province_id', 1)} END",
)

# Drop order for the migration's downgrade.
TRIGGERS_POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS organizations_totals_move ON organizations",
    "DROP TRIGGER IF EXISTS organizations_totals_delete ON organizations",
    "DROP TRIGGER IF EXISTS activity_reports_totals ON activity_reports",
    "DROP FUNCTION IF EXISTS organizations_totals()",
    "DROP FUNCTION IF EXISTS activity_org_totals(integer, integer, integer)",
    "DROP FUNCTION IF EXISTS activity_reports_totals()",
    "DROP FUNCTION IF EXISTS activity_day_totals_add(integer, date, text, integer, integer, numeric)",
)
TRIGGERS_SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in (
    "activity_reports_totals_insert", "activity_reports_totals_delete", "activity_reports_totals_update",
    "organizations_totals_delete", "organizations_totals_move"))

# The sums of the reports already there (the migration fills the table once).
BACKFILL = (f"INSERT INTO activity_day_totals {_COLUMNS} SELECT o.province_id, r.activity_date, "
            "COALESCE(r.budget_source, ''), count(*), sum(r.participants), COALESCE(sum(r.budget), 0) "
            "FROM activity_reports r JOIN organizations o ON o.id = r.organization_id WHERE r.withdrawn_at IS NULL "
            "GROUP BY o.province_id, r.activity_date, r.budget_source")

# After every table exists: the triggers sit on activity_reports and organizations.
for _statement in TOTALS_SQLITE:
    event.listen(Base.metadata, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in TOTALS_POSTGRESQL:
    event.listen(Base.metadata, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
