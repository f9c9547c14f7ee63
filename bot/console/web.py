"""The console's blueprint and what every page shares: the database session, the clock, the
language, and who is looking (`Viewer`), with the scope checks every page goes through."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .. import signin, thai
from ..config import SUPPORTED_LOCALES
from ..db import once_more_if_dropped
from ..i18n import N_, _, set_locale
from ..models import Member, Province, Role, utcnow
from ..scopes import Scope, ScopeError, contains, place_of

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")

SESSION_COOKIE = "khabuan_console"
PENDING_COOKIE = "khabuan_console_link"
PERSONAL_ROLES = (Role.SECRETARIAT, Role.ADMIN)  # may see members' names and phones in their grant's scope


def services() -> Any:
    return current_app.extensions["khabuan"]


def db() -> Session:
    """One session per request, closed when the request ends."""
    if "console_db" not in g:
        g.console_db = services().session_factory()
    return g.console_db


def now() -> datetime:
    """The request's moment, read once (the edge reads the clock; code below takes it)."""
    if "console_now" not in g:
        g.console_now = utcnow()
    return g.console_now


def today() -> date:
    return now().astimezone(services().settings.timezone).date()


@bp.teardown_app_request
def _close(_exc: BaseException | None) -> None:
    session = g.pop("console_db", None)
    if session is not None:
        session.close()


@dataclass
class Viewer:
    """The signed-in person, the scopes their roles give, and the scope this page shows."""

    member: Member
    scopes: list[Scope]  # of their coordinator/secretariat/admin grants, widest first
    scope: Scope  # the one chosen (?scope=), inside one of `scopes`
    personal: bool  # may see names and phones of members in `scope`: a secretariat/admin grant holds it
    personal_scopes: tuple[Scope, ...] = ()  # the scopes of their secretariat/admin grants

    def personal_about(self, province: Province | None) -> bool:
        """May they see this person's phone: a secretariat/admin grant of theirs holds the person's province."""
        return province is not None and any(contains(s, province) for s in self.personal_scopes)

    def covers(self, province: Province | None) -> bool:
        return province is not None and any(contains(s, province) for s in self.scopes)

    def shows(self, province: Province | None) -> bool:
        return province is not None and contains(self.scope, province)


def _grant_scopes(member: Member) -> list[Scope]:
    found = {Scope.NATIONAL if g_.role is Role.ADMIN else Scope.of(g_) for g_ in member.roles
             if g_.role in signin.CONSOLE_ROLES}
    return sorted(found, key=lambda s: (s.level, s.code))


def _personal_scopes(member: Member) -> tuple[Scope, ...]:
    return tuple(Scope.NATIONAL if g_.role is Role.ADMIN else Scope.of(g_) for g_ in member.roles
                 if g_.role in PERSONAL_ROLES)


def personal_in(session: Session, personal_scopes: tuple[Scope, ...], scope: Scope) -> bool:
    """Names and phones by the area viewed, not by any role held anywhere: a secretariat of
    province A who coordinates region R sees them in A, not across R."""
    if not personal_scopes:
        return False
    place = place_of(session, scope)
    return place is not None and any(contains(s, place) for s in personal_scopes)


def chosen_scope(session: Session, scopes: list[Scope], raw: str | None) -> Scope:
    """The ?scope= asked for, if it lies inside one of the person's scopes; 404 otherwise."""
    if not raw:
        return scopes[0]
    try:
        wanted = Scope.parse(raw)
    except ScopeError:
        abort(404)
    place = place_of(session, wanted)
    if place is None or not any(contains(s, place) for s in scopes):
        abort(404)
    return wanted


def _locale_for_anonymous() -> str:
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or services().settings.default_locale \
        if request.accept_languages else services().settings.default_locale


def _first_statement() -> Member | None:
    """The request's first round trip: who is signed in, or (nobody) a plain SELECT 1 for the
    pages that read the database next. Static files for anonymous browsers need none."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return signin.current(db(), token, now())
    if request.endpoint not in ("console.static", "console.font"):
        db().execute(text("SELECT 1"))
    return None


@bp.before_request
def _load_viewer() -> None:
    g.viewer = None
    # The pool does not ping before use (bot/app.py): a connection PostgreSQL dropped fails this
    # first statement, and the request goes on once more on a fresh one, as the webhook does.
    member = once_more_if_dropped(db(), _first_statement)
    if member is None:
        set_locale(request.args.get("lang") if request.args.get("lang") in SUPPORTED_LOCALES
                   else _locale_for_anonymous())
        return
    set_locale(member.locale)
    scopes = _grant_scopes(member)
    scope = chosen_scope(db(), scopes, request.args.get("scope"))
    personal_scopes = _personal_scopes(member)
    g.viewer = Viewer(member, scopes, scope, personal=personal_in(db(), personal_scopes, scope),
                      personal_scopes=personal_scopes)


def viewer() -> Viewer:
    found = g.get("viewer")
    if found is None:
        abort(401)
    return found


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages for signed-in people; anyone else is sent to the page saying how to sign in."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("viewer") is None:
            return redirect(url_for("console.sign_in_page", next=request.path))
        return view(*args, **kwargs)
    return wrapper


@bp.app_template_global("_")
def translate(message_id: str, **kwargs: Any) -> str:
    return _(message_id, **kwargs)


@bp.app_template_filter("bedate")
def format_date(value: date | datetime | None) -> str:
    """A Buddhist-era date (Thai) or a plain one (English) in Bangkok time."""
    if value is None:
        return "–"
    from ..i18n import current_locale

    if isinstance(value, datetime):
        return thai.format_datetime(value, current_locale(), services().settings.timezone)
    return thai.format_date(value, current_locale())


@bp.app_template_filter("num")
def format_number(value: Any) -> str:
    from ..i18n import current_locale

    return thai.format_number(value or 0, current_locale())


def scope_name(session: Session, scope: Scope) -> str:
    from ..i18n import current_locale
    from ..scopes import row_of

    row = row_of(session, scope)
    return _("console.scope_national") if row is None else row.name(current_locale())


def provinces_in(session: Session, scope: Scope) -> list[Province]:
    from ..scopes import in_scope

    return list(session.scalars(select(Province).where(in_scope(Province.id, scope)).order_by(Province.name_th)))


@bp.app_context_processor
def _layout() -> dict[str, Any]:
    return {"exports_ready": "console.exports" in current_app.view_functions}


ERROR_TEXT = {400: N_("console.error_400"), 403: N_("console.error_403"), 404: N_("console.error_404")}


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(404)
def _error(error: Any) -> Any:
    """Refusals in the person's language (a missing CSRF token is a 400 too), with a way back."""
    from flask import render_template

    status = getattr(error, "code", 400) or 400
    return render_template("console/error.html", message=_(ERROR_TEXT.get(status, ERROR_TEXT[400]))), status
