"""Quiet hours: non-urgent pushes wait until morning (in the movement's time zone).

The window may cross midnight (21:00–07:00) or not (12:00–13:00); equal start and end
means no quiet hours (what `BOT_QUIET_HOURS=off` gives). Everything takes and returns aware
UTC datetimes and converts to local time only to compare clock times, so DST-free Bangkok and
any other zone work alike.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def in_quiet_hours(moment: datetime, start: time, end: time, tz: ZoneInfo) -> bool:
    if start == end:
        return False
    clock = moment.astimezone(tz).time()
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # the window crosses midnight


def quiet_ends_at(moment: datetime, start: time, end: time, tz: ZoneInfo) -> datetime:
    """The first instant at or after `moment` outside quiet hours (UTC)."""
    if not in_quiet_hours(moment, start, end, tz):
        return moment
    local = moment.astimezone(tz)
    end_today = datetime.combine(local.date(), end, tzinfo=tz)
    # Before midnight in a window that crosses it, the end is tomorrow morning.
    ends = end_today if local < end_today else end_today + timedelta(days=1)
    return ends.astimezone(timezone.utc)
