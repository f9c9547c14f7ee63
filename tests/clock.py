"""The test suite's clock: a frozen moment for tests that involve dates, and a moved wall clock for CI.

A test that passes today and fails next month, or at night in Bangkok, is a defect. Two tools keep
that from happening:

- `frozen_now` (fixture, tests/conftest.py): the clock stopped at FROZEN_NOW, a mid-month weekday at
  10:00 in Bangkok, for every test whose outcome depends on the date or the hour.
- `--clock=MOMENT` (or KHABUAN_TEST_CLOCK): the whole session runs with the wall clock moved, so a
  test that silently depends on the real date fails here instead of on some later day. `.ci/run`
  runs the SQLite suite again at both presets:
    month-end    one year ahead, 23:58 on the last day of that month, Bangkok time
    quiet-hours  02:30 tomorrow, Bangkok time (inside the default quiet hours 21:00-07:00)
  or any ISO 8601 moment with an offset (2027-11-30T23:58+07:00).

time-machine moves `time.time()` and `datetime.now()` but not `time.monotonic()`, so time-outs still
measure real time.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

BANGKOK = ZoneInfo("Asia/Bangkok")
# Wednesday 18 November 2026, 10:00 in Bangkok: mid-month, a weekday, outside quiet hours.
FROZEN_NOW = datetime(2026, 11, 18, 10, 0, tzinfo=BANGKOK)
PRESETS = ("month-end", "quiet-hours")


def month_end_next_year(today: date) -> datetime:
    """23:58 Bangkok on the last day of the month one year after `today`."""
    year = today.year + 1
    last = calendar.monthrange(year, today.month)[1]
    return datetime(year, today.month, last, 23, 58, tzinfo=BANGKOK)


def quiet_hours_tomorrow(today: date) -> datetime:
    day = today + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 2, 30, tzinfo=BANGKOK)


class MovedClock:
    """The session's wall clock, moved to a moment and ticking; can step aside for a test and resume."""

    def __init__(self, when: datetime) -> None:
        self.offset = when - datetime.now(when.tzinfo)
        self._traveller: time_machine.travel | None = None

    def start(self) -> None:
        # Resume where the moved clock would be now, so time never runs backwards across tests.
        self._traveller = time_machine.travel(datetime.now(BANGKOK) + self.offset, tick=True)
        self._traveller.start()

    def stop(self) -> None:
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None


def resolve(moment: str, *, today: date) -> datetime:
    """A preset name or an ISO moment (with its offset) → an aware datetime."""
    if moment == "month-end":
        return month_end_next_year(today)
    if moment == "quiet-hours":
        return quiet_hours_tomorrow(today)
    try:
        value = datetime.fromisoformat(moment)
    except ValueError:
        raise ValueError(f"--clock: {moment!r} is neither one of {PRESETS} nor an ISO moment") from None
    if value.tzinfo is None:
        raise ValueError(f"--clock: {moment!r} needs an offset, e.g. +07:00")
    return value
