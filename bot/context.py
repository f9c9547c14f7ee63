"""What a handler gets: the event's session, who is speaking, where, and when."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .config import Settings

if TYPE_CHECKING:
    from .flows.engine import FlowEngine
    from .lineport import LineReads
    from .models import Member


@dataclass
class Input:
    """One thing a person did: typed, tapped, or sent a sticker, photo or place."""

    kind: str  # text | postback | image | location | sticker | other
    text: str = ""  # normalized text (for matching commands, numbers, names)
    raw: str = ""  # the text as typed (free-text answers keep its lines and digits)
    data: dict[str, Any] = field(default_factory=dict)  # postback fields, typed by bot.postback.parse
    params: dict[str, str] = field(default_factory=dict)  # date/time picker result
    message_id: str | None = None
    location: dict[str, Any] | None = None
    invalid: bool = False  # a postback outside bot.postback's schema (forged, or from an old version)

    @property
    def is_text(self) -> bool:
        return self.kind == "text"


@dataclass
class Context:
    session: Session
    settings: Settings
    # LINE reads fetched for this event before its transaction opened (see bot.lineport): a
    # handler never waits on LINE while it holds the member's row lock.
    line: LineReads
    now: datetime  # UTC, aware
    source_type: str  # user | group | room
    chat_id: str  # where replies and pushes for this event go
    member: Member | None = None  # the person in a 1:1 chat (loaded and locked per event)
    actor_id: str | None = None  # LINE user id of whoever acted (also in groups)
    reply_token: str | None = None
    flows: FlowEngine | None = None  # set by the dispatcher
    # The tap that is about to start a flow; if another flow is under way, the engine asks
    # before dropping it and offers this tap again (with sw=1) to confirm.
    confirm_switch: Input | None = None
    # Anything a handler wants delivered after the transaction commits (see webhook).
    after_commit: list[int] = field(default_factory=list)  # outbox ids to send right after commit

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.settings.timezone)

    @property
    def today(self) -> date:
        return self.local_now.date()

    @property
    def locale(self) -> str:
        return self.member.locale if self.member else self.settings.default_locale
