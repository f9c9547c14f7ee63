"""Declarative base and the column types every model shares."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints so Alembic migrations are stable on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The moment the current unit of work happens at: a webhook event's time, or a job's fire time.
# Rows stamped by a column default (created_at, updated_at…) take it, so a job run for a given
# moment writes what that moment would, and a test's clock reaches every stamp.
_unit_now: ContextVar[datetime | None] = ContextVar("khabuan_unit_now", default=None)


@contextmanager
def happening_at(now: datetime) -> Iterator[datetime]:
    """Run a unit of work (an event, a job) at `now`: every default time stamp inside uses it."""
    if now.tzinfo is None:
        raise ValueError("happening_at needs an aware datetime")
    token = _unit_now.set(now)
    try:
        yield now
    finally:
        _unit_now.reset(token)


def utcnow() -> datetime:
    """The current unit of work's moment if there is one (see happening_at), else the wall clock.

    Edges read it once (the webhook per event, the worker per pass, the CLI per command) and pass
    the result down as `now`; code below the edges takes `now` from its caller.
    """
    return _unit_now.get() or datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored in UTC.

    PostgreSQL keeps the offset (timestamptz); SQLite drops it, so values are
    normalized to UTC on the way in and marked UTC on the way out. A naive
    datetime is a bug in the caller and is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
