"""People: members (one per LINE user) and the roles the movement grants them."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .geography import Province


class Role(str, enum.Enum):
    LEADER = "leader"
    DELEGATE = "delegate"
    COORDINATOR = "coordinator"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"


class ScopeKind(str, enum.Enum):
    NATIONAL = "national"
    REGION = "region"
    GROUP = "group"
    PROVINCE = "province"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native ENUM type): adding a value later needs no DDL.
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Member(Timestamped, Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    full_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(16))
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="th")
    consent_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Set when the person asked us to forget them; personal fields are cleared.
    erased_at: Mapped[datetime | None]

    province: Mapped[Province | None] = relationship()
    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="member", cascade="all, delete-orphan", foreign_keys="RoleGrant.member_id"
    )

    @property
    def is_registered(self) -> bool:
        return self.registered_at is not None and self.erased_at is None

    def erase_personal_data(self, now: datetime) -> None:
        """PDPA erasure: keep the row (counts, foreign keys) but not the person.

        `now` is the erasure event's time (the caller's clock, not the wall clock).
        bot.erasure.erase_member also removes the copies kept elsewhere: use that."""
        self.display_name = None
        self.full_name = None
        self.phone = None
        self.province = None  # counts by province use organizations, not people
        self.consent_at = None
        self.registered_at = None
        self.erased_at = now


class RoleGrant(Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("member_id", "role", "scope_kind", "scope_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    scope_kind: Mapped[ScopeKind] = mapped_column(_enum(ScopeKind, "scope_kind"))
    # Region/group/province code; "" for national (NULLs would defeat the unique constraint).
    scope_code: Mapped[str] = mapped_column(String(32), default="")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship(back_populates="roles", foreign_keys=[member_id])

    @property
    def scope(self) -> str:
        return self.scope_kind.value if self.scope_kind is ScopeKind.NATIONAL else f"{self.scope_kind.value}:{self.scope_code}"
