"""Signing in to the web console through LINE itself: no passwords.

Two ways, both ending in a `ConsoleSession` (bot/models/console.py):

- **A link from chat.** A coordinator, secretariat member or admin asks the bot ("เปิดแดชบอร์ด");
  `issue_link` makes a single-use link valid for 10 minutes. Fetching the link only shows a
  button (`check_link` changes nothing: link previews fetch it too); the first browser that
  presses it (`open_link`) gets a secret of its own (a cookie) and a short code on screen, and
  the bot asks the person in their own 1:1 chat to confirm that code (`answer`). Only then does that browser
  (`activate`, polled by the page) get a session; a link forwarded to someone else either was
  opened already (refused) or asks its owner, who sees a sign-in they did not start.
- **LINE Login** (bot/console/auth.py): the ID token's subject is a LINE user id; `start_session`
  opens the session if that member may use the console.

Tokens are random; the database keeps their SHA-256 only. Every session opened is in the audit
log. Domain level: depends on roles, audit, delivery, rendering primitives and the models.
"""
from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import postback, ui
from .audit import record
from .delivery import enqueue
from .i18n import _, use_locale
from .models import AuditAction, AuditVia, ConsoleSession, ConsoleSignIn, Member, Priority, Role
from .roles import has_role

CONSOLE_ROLES = (Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)
LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
CODE_DIGITS = 4


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def may_use_console(member: Member | None) -> bool:
    """Coordinators, secretariat members and admins, in any scope (what they see is their scope)."""
    return has_role(member, CONSOLE_ROLES)


class LinkRefused(str, enum.Enum):
    UNKNOWN = "unknown"  # no such link (mistyped, or never ours)
    EXPIRED = "expired"  # older than 10 minutes
    USED = "used"  # opened already, in this or another browser
    NOT_ALLOWED = "not_allowed"  # the person no longer holds a console role


class LinkState(str, enum.Enum):
    WAITING = "waiting"  # the person has not answered in chat yet
    ACTIVE = "active"  # confirmed: this browser now has a session
    DENIED = "denied"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # no link opened in this browser


def issue_link(session: Session, member: Member, now: datetime) -> tuple[ConsoleSignIn, str]:
    """A new sign-in link's row and its token (the token goes into the URL, never into the database)."""
    token = secrets.token_urlsafe(32)
    row = ConsoleSignIn(token_hash=digest(token), member=member, created_at=now, expires_at=now + LINK_LIFETIME)
    session.add(row)
    session.flush()
    return row, token


@dataclass(frozen=True)
class Opened:
    sign_in: ConsoleSignIn
    browser_secret: str  # for this browser's cookie
    outbox_ids: list[int]


def _usable(row: ConsoleSignIn | None, now: datetime) -> LinkRefused | None:
    if row is None:
        return LinkRefused.UNKNOWN
    if row.opened_at is not None:
        return LinkRefused.USED
    if now >= row.expires_at:
        return LinkRefused.EXPIRED
    if not may_use_console(row.member):
        return LinkRefused.NOT_ALLOWED
    return None


def check_link(session: Session, token: str, now: datetime) -> LinkRefused | None:
    """Whether a link could still be opened, changing nothing (why not, or None).

    Fetching the link's page (a GET) must not use it up: LINE's link previews and URL scanners
    fetch the URLs in chat messages before the person taps them.
    """
    return _usable(session.scalar(select(ConsoleSignIn).where(ConsoleSignIn.token_hash == digest(token))), now)


def open_link(session: Session, token: str, now: datetime) -> Opened | LinkRefused:
    """A browser opens a link (the person pressed the button): bind it to that browser, show a
    code, ask the person in chat."""
    row = session.scalar(select(ConsoleSignIn).where(ConsoleSignIn.token_hash == digest(token))
                         .with_for_update())
    refused = _usable(row, now)
    if row is None or refused is not None:
        return refused or LinkRefused.UNKNOWN
    browser = secrets.token_urlsafe(32)
    row.opened_at, row.browser_hash = now, digest(browser)
    row.code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    member = row.member
    with use_locale(member.locale):
        message = ui.text(_("console.confirm_push", code=row.code), [
            ui.Chip(_("console.confirm_yes"), postback.encode(a="console.ok", id=row.id)),
            ui.Chip(_("console.confirm_no"), postback.encode(a="console.no", id=row.id)),
        ])
    rows = enqueue(session, [member.line_user_id], [message], now=now, kind="console.confirm",
                   priority=Priority.HIGH, urgent=True, dedupe_key=f"console:{row.id}:confirm")
    return Opened(row, browser, [r.id for r in rows])


class Answer(str, enum.Enum):
    CONFIRMED = "confirmed"
    DENIED = "denied"
    EXPIRED = "expired"
    ANSWERED = "answered"  # answered before (or the browser already signed in)
    UNKNOWN = "unknown"  # not this person's link, or never opened


def answer(session: Session, member: Member, sign_in_id: int, now: datetime, *, confirm: bool) -> Answer:
    """The person's answer in their 1:1 chat to "is this you signing in?"."""
    row = session.get(ConsoleSignIn, sign_in_id, with_for_update=True)
    if row is None or row.member_id != member.id or row.opened_at is None:
        return Answer.UNKNOWN
    if row.confirmed_at is not None or row.denied_at is not None:
        return Answer.ANSWERED
    if not confirm:
        row.denied_at = now
        return Answer.DENIED
    if now >= row.expires_at:
        return Answer.EXPIRED
    row.confirmed_at = now
    return Answer.CONFIRMED


def activate(session: Session, sign_in_id: int, browser_secret: str, now: datetime) -> tuple[LinkState, str | None]:
    """The browser that opened the link asks whether it is signed in yet; a session token once it is."""
    row = session.get(ConsoleSignIn, sign_in_id, with_for_update=True)
    if row is None or row.browser_hash is None or not secrets.compare_digest(row.browser_hash, digest(browser_secret)):
        return LinkState.UNKNOWN, None
    if row.denied_at is not None:
        return LinkState.DENIED, None
    if row.used_at is not None:
        return LinkState.UNKNOWN, None  # the session was handed out once; a copied cookie gets nothing more
    if row.confirmed_at is None:
        return (LinkState.EXPIRED, None) if now >= row.expires_at else (LinkState.WAITING, None)
    if not may_use_console(row.member):
        return LinkState.DENIED, None
    row.used_at = now
    return LinkState.ACTIVE, start_session(session, row.member, now, via="link")


def start_session(session: Session, member: Member, now: datetime, *, via: str) -> str:
    """Open a 12-hour session for the member and record the sign-in; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=digest(token), member=member, via=via, created_at=now,
                               expires_at=now + SESSION_LIFETIME))
    record(session, action=AuditAction.SIGN_IN, via=AuditVia.CONSOLE, now=now, actor=member, subject=member,
           details={"method": via})
    return token


def current(session: Session, token: str | None, now: datetime) -> Member | None:
    """The member a session cookie belongs to, if it is live and they may still use the console."""
    if not token:
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == digest(token)))
    if row is None or row.ended_at is not None or now >= row.expires_at:
        return None
    return row.member if may_use_console(row.member) else None


def end_session(session: Session, token: str | None, now: datetime) -> None:
    if not token:
        return
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == digest(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = now


def member_for_line_user(session: Session, line_user_id: str) -> Member | None:
    return session.scalar(select(Member).where(Member.line_user_id == line_user_id))
