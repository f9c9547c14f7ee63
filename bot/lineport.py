"""The few LINE reads handlers need, and never while an event holds the member's row lock.

Handlers see a `LineReads` (on `ctx.line`), not the gateway. The one they get is a `Prefetched`
snapshot: the dispatcher decides from the event (and the routes' declared `needs`) what the
event may read, `prefetch` asks LINE for exactly that through `LiveLineReads` BEFORE the event's
transaction opens, and the handler reads the answers from memory. Anything not fetched, or that
LINE did not answer in time, is None, and handlers degrade (no display name, a generic group
name, quota unknown, a photo marked missing) instead of failing.

Timeouts are short: the person is waiting for the reply, and LINE waits for our webhook answer.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .line import Quota

if TYPE_CHECKING:
    from .line import LineGateway

# (connect, read) seconds. A content download is bigger, so it may read longer, but stays bounded.
READ_TIMEOUT = (2.0, 2.5)
CONTENT_TIMEOUT = (2.0, 8.0)

# The names a route may declare in `needs`, one per method of LineReads.
PROFILE, GROUP_SUMMARY, QUOTA, CONTENT = "profile", "group_summary", "quota", "content"
READS = frozenset({PROFILE, GROUP_SUMMARY, QUOTA, CONTENT})


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str


@dataclass(frozen=True)
class GroupSummary:
    group_id: str
    group_name: str


@dataclass(frozen=True)
class Content:
    """A content download LINE answered: status 200 with the bytes, or LINE's error status
    (404 never had it, 410 already deleted, 5xx a bad moment) without them."""

    status: int
    data: bytes | None = None
    content_type: str | None = None


class LineReads(Protocol):
    def profile(self, user_id: str) -> Profile | None: ...

    def group_summary(self, group_id: str) -> GroupSummary | None: ...

    def quota(self) -> Quota | None:
        """This month's quota and what is used of it; `.remaining` is what is left."""
        ...

    def content(self, message_id: str) -> Content | None:
        """None when LINE gave no answer (timeout, refused, or not fetched for this event)."""
        ...


class LiveLineReads:
    """Asks LINE now, with short timeouts. Only for the edge, outside any transaction."""

    def __init__(self, gateway: LineGateway, *, timeout: tuple[float, float] = READ_TIMEOUT,
                 content_timeout: tuple[float, float] = CONTENT_TIMEOUT) -> None:
        self._gateway = gateway
        self.timeout = timeout
        self.content_timeout = content_timeout

    def profile(self, user_id: str) -> Profile | None:
        found = self._gateway.profile(user_id, timeout=self.timeout)
        return Profile(user_id, found.display_name or "") if found is not None else None

    def group_summary(self, group_id: str) -> GroupSummary | None:
        found = self._gateway.group_summary(group_id, timeout=self.timeout)
        return GroupSummary(group_id, found.group_name or "") if found is not None else None

    def quota(self) -> Quota | None:
        return self._gateway.quota(timeout=self.timeout)

    def content(self, message_id: str) -> Content | None:
        status, data, content_type = self._gateway.content(message_id, timeout=self.content_timeout)
        return Content(status, data, content_type) if status else None


@dataclass(frozen=True)
class Wants:
    """What one event may read from LINE: the ids to ask about, per read."""

    profiles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    quota: bool = False
    contents: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.profiles or self.groups or self.quota or self.contents)


@dataclass
class Prefetched:
    """Answers fetched before the event's transaction; asking for anything else gives None."""

    profiles: dict[str, Profile | None] = field(default_factory=dict)
    groups: dict[str, GroupSummary | None] = field(default_factory=dict)
    quota_answer: Quota | None = None
    contents: dict[str, Content | None] = field(default_factory=dict)

    def profile(self, user_id: str) -> Profile | None:
        return self.profiles.get(user_id)

    def group_summary(self, group_id: str) -> GroupSummary | None:
        return self.groups.get(group_id)

    def quota(self) -> Quota | None:
        return self.quota_answer

    def content(self, message_id: str) -> Content | None:
        return self.contents.get(message_id)


def prefetch(live: LineReads, wants: Wants) -> Prefetched:
    """Ask LINE for what the event wants; call with no transaction open."""
    return Prefetched(
        profiles={uid: live.profile(uid) for uid in _unique(wants.profiles)},
        groups={gid: live.group_summary(gid) for gid in _unique(wants.groups)},
        quota_answer=live.quota() if wants.quota else None,
        contents={mid: live.content(mid) for mid in _unique(wants.contents)},
    )


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))
