"""Signing in and out: the page saying how, the link from chat, LINE Login, sign-out.

The link from chat: `/console/link/<token>` shows one button and changes nothing (link previews
fetch it too); pressing it (a POST) binds the link to this browser (a cookie with a secret of its
own) and asks the person in chat; `/console/link/wait` shows the code and refreshes itself
until they answer, then hands this browser — and only it — its session cookie.

LINE Login v2.1 (OpenID Connect) through Authlib: the state and nonce it keeps in Flask's signed
cookie are checked on the way back, and the ID token's signature (the provider's JWKS), issuer,
audience, expiry and nonce are verified before its subject (the LINE user id) is trusted.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from joserfc.errors import JoseError
from flask import Blueprint, Flask, Response, current_app, abort, g, make_response, redirect, render_template, request, send_file, url_for

from .. import signin
from ..i18n import N_
from ..config import Settings
from ..signin import LinkRefused, LinkState
from .web import bp as web_bp, PENDING_COOKIE, SESSION_COOKIE, db, now, services

log = logging.getLogger(__name__)
REFUSALS = {"unknown": N_("console.refused_unknown"), "expired": N_("console.refused_expired"),
            "used": N_("console.refused_used"), "not_allowed": N_("console.refused_not_allowed"),
            "denied": N_("console.refused_denied"), "login_failed": N_("console.refused_login_failed")}


def refusal_text(reason: str) -> str:
    return REFUSALS.get(reason, REFUSALS["unknown"])


def init_login(app: Flask, settings: Settings) -> None:
    # One OAuth registry per app: Authlib caches a registry's clients, so a shared one would keep
    # the first app's provider and keys for every later app in the process (tests, workers).
    oauth = app.extensions["khabuan.oauth"] = OAuth(app)
    if settings.has_login:
        oauth.register(
            "line", client_id=settings.login_channel_id, client_secret=settings.login_channel_secret,
            server_metadata_url=settings.login_metadata_url,
            # LINE's token endpoint takes the client's credentials in the form, not Basic auth.
            client_kwargs={"scope": "openid profile", "token_endpoint_auth_method": "client_secret_post"},
            overwrite=True)


def _line_client() -> Any:
    return current_app.extensions["khabuan.oauth"].create_client("line") if services().settings.has_login else None


def _cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/console", httponly=True, samesite="Lax",
                        secure=request.is_secure or services().settings.public_url.startswith("https://"))


def _signed_in(member_token: str) -> Response:
    response = redirect(url_for("console.overview"))
    _cookie(response, SESSION_COOKIE, member_token, int(signin.SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(PENDING_COOKIE, path="/console")
    return response


def sign_in_page() -> Any:
    if g.get("viewer") is not None:
        return redirect(url_for("console.overview"))
    return render_template("console/sign_in.html", line_login=services().settings.has_login)


def _link_refused(refused: LinkRefused) -> Any:
    status = 410 if refused in (LinkRefused.EXPIRED, LinkRefused.USED) else 404
    return render_template("console/link_refused.html", reason=refused.value), status


def show_link(token: str) -> Any:
    """The link's page: one button, nothing changed. LINE's link previews and URL scanners fetch
    the URLs in chat, so a GET must not use the link up; pressing the button (a POST) does."""
    refused = signin.check_link(db(), token, now())
    if refused is not None:
        return _link_refused(refused)
    response = make_response(render_template("console/link_open.html", token=token))
    response.headers["Cache-Control"] = "no-store"
    # Same-origin only: the token stays out of other sites' logs, while the button's POST still
    # carries the Referer Flask-WTF checks over HTTPS.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def open_link(token: str) -> Any:
    """The button pressed (CSRF-checked like every console form): bind the link to this browser
    and ask the person in chat."""
    session = db()
    opened = signin.open_link(session, token, now())
    if isinstance(opened, LinkRefused):
        session.rollback()
        return _link_refused(opened)
    session.commit()
    try:
        services().deliver_now(opened.outbox_ids)
    except Exception:  # the worker sends it; the page keeps waiting
        log.exception("the sign-in confirmation was left to the worker")
    response = redirect(url_for("console.link_wait"))
    _cookie(response, PENDING_COOKIE, f"{opened.sign_in.id}.{opened.browser_secret}",
            int(signin.LINK_LIFETIME.total_seconds()))
    return response


def link_wait() -> Any:
    raw = request.cookies.get(PENDING_COOKIE, "")
    sign_in_id, _dot, secret = raw.partition(".")
    if not sign_in_id.isascii() or not sign_in_id.isdigit() or not secret or len(sign_in_id) > 10:
        return render_template("console/link_refused.html", reason=LinkState.UNKNOWN.value), 403
    session = db()
    state, token = signin.activate(session, int(sign_in_id), secret, now())
    session.commit()
    if state is LinkState.ACTIVE and token is not None:
        return _signed_in(token)
    if state is LinkState.WAITING:
        from ..models import ConsoleSignIn

        row = session.get(ConsoleSignIn, int(sign_in_id))
        return render_template("console/link_wait.html", code=row.code if row else "")
    return render_template("console/link_refused.html", reason=state.value), 403


def line_login() -> Any:
    client = _line_client()
    if client is None:
        abort(404)
    # The public address, not the request's host: it must equal the callback URL registered with
    # LINE, whatever proxy the request came through.
    return client.authorize_redirect(services().settings.public_url + url_for("console.line_callback"))


def line_callback() -> Any:
    client = _line_client()
    if client is None:
        abort(404)
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as exc:  # wrong state, nonce, signature, audience…
        log.info("LINE Login refused: %s", type(exc).__name__)
        return render_template("console/link_refused.html", reason="login_failed"), 403
    claims = token.get("userinfo") or {}
    session = db()
    member = signin.member_for_line_user(session, str(claims.get("sub", "")))
    if not signin.may_use_console(member):
        return render_template("console/link_refused.html", reason=LinkRefused.NOT_ALLOWED.value), 403
    session_token = signin.start_session(session, member, now(), via="line_login")
    session.commit()
    return _signed_in(session_token)


def sign_out() -> Any:
    session = db()
    signin.end_session(session, request.cookies.get(SESSION_COOKIE), now())
    session.commit()
    response = make_response(redirect(url_for("console.sign_in_page")))
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


def font(weight: str) -> Any:
    """Sarabun from its pip package: Thai renders the same on any device, and nothing comes from the internet."""
    if weight not in ("Regular", "Bold"):
        abort(404)
    import fontpkg_sarabun

    return send_file(Path(fontpkg_sarabun.ROOT) / "files" / f"Sarabun-{weight}.ttf", mimetype="font/ttf",
                     max_age=86400)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/font/<weight>.ttf", "font", font)
    bp.add_app_template_global(refusal_text, "refusal_text")
    bp.add_url_rule("/signin", "sign_in_page", sign_in_page)
    bp.add_url_rule("/link/wait", "link_wait", link_wait)
    bp.add_url_rule("/link/<token>", "show_link", show_link)
    bp.add_url_rule("/link/<token>", "open_link", open_link, methods=["POST"])
    bp.add_url_rule("/login/line", "line_login", line_login)
    bp.add_url_rule("/login/line/callback", "line_callback", line_callback)
    bp.add_url_rule("/signout", "sign_out", sign_out, methods=["POST"])


register(web_bp)
