"""LINE group chats bound to a scope: what the secretariat's groups follow and receive."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped
from .members import ScopeKind, _enum
from .organizations import Organization
from .reports import ActivityReport


class BoundGroup(Timestamped, Base):
    """One row per group chat the bot is bound in; unbinding (or the bot leaving) deletes it."""

    __tablename__ = "bound_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_group_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")  # from LINE's group summary
    locale: Mapped[str] = mapped_column(String(8), default="th")
    scope_kind: Mapped[ScopeKind] = mapped_column(_enum(ScopeKind, "scope_kind"))
    scope_code: Mapped[str] = mapped_column(String(32), default="")
    daily_digest: Mapped[bool] = mapped_column(default=True)
    weekly_digest: Mapped[bool] = mapped_column(default=True)
    assembly_results: Mapped[bool] = mapped_column(default=False)
    certification_requests: Mapped[bool] = mapped_column(default=False)
    bound_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    bound_at: Mapped[datetime]

    @property
    def scope(self) -> str:
        return self.scope_kind.value if self.scope_kind is ScopeKind.NATIONAL else f"{self.scope_kind.value}:{self.scope_code}"


# Digests count reports by when they came in and which provinces reported this month, over every
# report in a scope; without these two indexes a national digest reads the whole table. Declared
# here, with the feature that needs them (the reports module owns the table's own indexes).
Index("ix_activity_reports_created_at", ActivityReport.__table__.c.created_at)
Index("ix_activity_reports_activity_date", ActivityReport.__table__.c.activity_date)

# The digest's report aggregates (by province, by issue, top organizations) read only the period's
# live reports: this partial index holds every column they need, so PostgreSQL answers them with an
# index-only scan of the period's entries instead of visiting ~one heap page per report.
_LIVE = text("withdrawn_at IS NULL")
Index("ix_activity_reports_live_created", ActivityReport.__table__.c.created_at,
      ActivityReport.__table__.c.organization_id, ActivityReport.__table__.c.issue_id,
      ActivityReport.__table__.c.participants, ActivityReport.__table__.c.budget,
      postgresql_where=_LIVE, sqlite_where=_LIVE)
# New organizations of the period, and the oldest ones still waiting for certification.
_PENDING = text("status = 'pending'")
Index("ix_organizations_created_at", Organization.__table__.c.created_at)
Index("ix_organizations_pending_created", Organization.__table__.c.created_at, Organization.__table__.c.id,
      postgresql_where=_PENDING, sqlite_where=_PENDING)
