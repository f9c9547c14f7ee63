"""The national assembly (สมัชชา): sessions, agenda items, ballots (who may vote) and votes.

Who voted and what was voted are kept apart on purpose:

- `ballots` is the eligibility snapshot taken when an item opens (one row per delegate, unique
  per item and member) and records *whether* that delegate voted (`voted_at`). Turnout and
  "who has voted" come from here and are not secret.
- `votes` holds the choice. While an item is open each vote points at its ballot (unique), which
  is what makes "one vote per delegate per item" a database rule and lets a delegate change their
  vote. When a *secret* item closes the link is cut (`ballot_id` set to NULL): from then on no
  row anywhere connects a person to a choice. While it is open, only the casting path reads the
  link (to find the delegate's own vote); every screen and export uses aggregate queries only.
- `vote_changes` audits changes. For a secret item it records that a ballot changed and when,
  never from/to which option (a CHECK constraint makes that a schema rule, not a habit).
- A vote has a random id and no timestamp, so neither insertion order nor time can be lined up with
  the public `ballots.voted_at` to re-link a secret vote after the item closes.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .geography import Region
from .members import Member

MAX_DESCRIPTION = 1000
MAX_OPTIONS = 10
MAX_OPTION_LABEL = 40  # a Flex button label: longer would be cut on the ballot


class ItemStatus(str, enum.Enum):
    SCHEDULED = "scheduled"  # created; opens at opens_at (or when the secretariat opens it)
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # taken off the agenda; its votes (if any) are never counted


class DecisionRule(str, enum.Enum):
    MAJORITY = "majority"  # more than half of the votes cast, abstentions excluded
    TWO_THIRDS = "two_thirds"  # at least two thirds of the votes cast, abstentions excluded


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class AssemblySession(Timestamped, Base):
    __tablename__ = "assembly_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    items: Mapped[list[AgendaItem]] = relationship(back_populates="session", order_by="AgendaItem.position")


class AgendaItem(Timestamped, Base):
    __tablename__ = "agenda_items"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="window_order"),
        CheckConstraint("quorum_percent >= 0 AND quorum_percent < 100", name="quorum_range"),
        Index("ix_agenda_items_status_opens", "status", "opens_at"),
        Index("ix_agenda_items_status_closes", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("assembly_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    # The opaque id ballots carry in their postback data: unguessable, so a forged tap cannot
    # name an item, and the same for every delegate, so one multicast carries every ballot.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # None: the standard approve / reject / abstain, shown in each reader's language.
    # Otherwise 2–10 labels, as the secretariat wrote them.
    custom_options: Mapped[list[str] | None] = mapped_column(JSON)
    # Which option is an abstention (not counted in the decision, counted for quorum).
    abstain_index: Mapped[int | None]
    secret: Mapped[bool] = mapped_column(default=True)
    # Quorum: more than this percentage of the eligible delegates must vote (50 = "more than half").
    quorum_percent: Mapped[int] = mapped_column(default=50)
    rule: Mapped[DecisionRule] = mapped_column(_enum(DecisionRule, "decision_rule"), default=DecisionRule.MAJORITY)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    allow_change: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus, "item_status"), default=ItemStatus.SCHEDULED)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    eligible_count: Mapped[int | None]  # fixed when the item opens: the quorum's denominator
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    session: Mapped[AssemblySession] = relationship(back_populates="items")

    @property
    def option_count(self) -> int:
        return len(self.custom_options) if self.custom_options else 3


class Ballot(Base):
    """One eligible delegate for one item, taken when it opens; a later role change moves nothing."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("item_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # The seat's region when the item opened, for the breakdown by region.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    voted_at: Mapped[datetime | None]
    changes: Mapped[int] = mapped_column(default=0)

    member: Mapped[Member] = relationship()
    region: Mapped[Region | None] = relationship()


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (
        # One vote per ballot, i.e. per delegate per item. NULL after a secret item closes.
        UniqueConstraint("ballot_id"),
        Index("ix_votes_item_option", "item_id", "option_index"),
    )

    # A random key, and no timestamp: a sequential id or a cast time could be lined up with
    # ballots.voted_at (which is public, for turnout) and undo the unlinking of a secret vote.
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id", ondelete="SET NULL"))
    option_index: Mapped[int]
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))


class VoteChange(Base):
    """Audit of a changed vote. Secret items: who changed and when, never what to what."""

    __tablename__ = "vote_changes"
    __table_args__ = (
        CheckConstraint("secret = false OR (from_option IS NULL AND to_option IS NULL)", name="secret_no_choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"))
    secret: Mapped[bool]
    from_option: Mapped[int | None]
    to_option: Mapped[int | None]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outcome(str, enum.Enum):
    PASSED = "passed"
    NOT_PASSED = "not_passed"
    NO_QUORUM = "no_quorum"


# How a breakdown cell of a secret item is shown (bot/assembly.py breakdown_cells decides which).
SMALL = 3  # a breakdown cell of a secret item showing fewer voters than this is never shown as a number
FEWER = "fewer"  # the cell holds fewer than SMALL votes (0, 1 or 2)
HIDDEN = "hidden"  # the whole row's split is withheld: its numbers could be worked out by subtraction
Cell = int | str  # a count to show, or FEWER / HIDDEN
