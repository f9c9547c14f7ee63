"""The audit log: who changed whose role, seat or access, where, when and through what.

Append-only. Code has no path that updates or deletes a row (`bot.audit.record` is the only
writer), and the database refuses an UPDATE (both databases) or a DELETE (PostgreSQL; SQLite's
test clean-up deletes rows) with a trigger. Rows name members by id, never by name or phone, so
a member's erasure leaves the record standing: it then reads "a member who has deleted their data".
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .members import Member, ScopeKind, _enum


class AuditAction(str, enum.Enum):
    GRANT = "grant"                          # a role given
    REVOKE = "revoke"                        # a role taken away
    NOMINATE = "nominate"                    # a delegate seat proposed by a coordinator
    CONFIRM = "confirm"                      # a delegate seat confirmed by the secretariat
    INVITE = "invite"                        # a role or seat waiting for someone to register
    INVITE_WITHDRAW = "invite_withdraw"
    INVITE_ACCEPT = "invite_accept"          # an invitation attached to the person who registered
    SIGN_IN = "sign_in"                      # a console session opened
    EXPORT = "export"                        # data taken away from the console


class AuditVia(str, enum.Enum):
    CHAT = "chat"
    CLI = "cli"
    IMPORT = "import"
    CONSOLE = "console"
    SYSTEM = "system"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction, "audit_action"))
    via: Mapped[AuditVia] = mapped_column(_enum(AuditVia, "audit_via"))
    # Who did it (None: an operator at the server, or the system itself).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    # To whom (None: an invitation nobody has taken yet, an export).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    # Where: the scope the change applies to ("" code for national), as in role_grants.
    scope_kind: Mapped[ScopeKind | None] = mapped_column(_enum(ScopeKind, "scope_kind"))
    scope_code: Mapped[str | None] = mapped_column(String(32))
    # Ids and codes only (an invitation's id, an export's kind and row count): never names or phones.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[Member | None] = relationship(foreign_keys=[subject_id])

    @property
    def scope(self) -> str | None:
        if self.scope_kind is None:
            return None
        return self.scope_kind.value if self.scope_kind is ScopeKind.NATIONAL else f"{self.scope_kind.value}:{self.scope_code}"


# The same statements are run by migration 0007; create_all (used by `khabuan db check`'s
# comparison database) gets them here.
APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_append_only BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)
APPEND_ONLY_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
)

event.listen(AuditEntry.__table__, "after_create", DDL(APPEND_ONLY_SQLITE).execute_if(dialect="sqlite"))
for _statement in APPEND_ONLY_POSTGRESQL:
    event.listen(AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
