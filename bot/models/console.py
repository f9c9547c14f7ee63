"""The web console's sign-in links and sessions, kept in the database so any web process can check them.

Neither table holds a usable secret: links and session cookies are random tokens, and only their
SHA-256 is stored, so a copy of the database opens no browser session.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .members import Member


class ConsoleSignIn(Base):
    """A sign-in link sent in chat: single use, short-lived, activated only by a confirmation in chat."""

    __tablename__ = "console_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when a browser opens the link: that browser's secret (hashed) and the code it shows.
    opened_at: Mapped[datetime | None]
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(8))
    # The person's answer in their 1:1 chat, then the moment the browser's session began.
    confirmed_at: Mapped[datetime | None]
    denied_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship()


class ConsoleSession(Base):
    """A signed-in browser: its cookie's hash, whose it is, until when."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(16))  # "link" | "line_login"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship()
