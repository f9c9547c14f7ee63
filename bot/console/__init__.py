"""The web console (`/console/`): the movement's data for coordinators and secretariats, in a browser.

Server-rendered pages (Flask blueprint, Jinja), in the person's language from the same catalogs
as the chat, Buddhist-era dates, one stylesheet shipped in the package (nothing is loaded from the
internet). Signing in goes through LINE itself (bot/signin.py; LINE Login in `auth`): no passwords.

What a person sees is what their roles allow in chat: `Viewer` holds the scopes of their
coordinator/secretariat/admin grants, and every query is filtered by `in_scope`; an id or a code
outside them answers 404, whatever the URL says. Forms carry CSRF tokens (Flask-WTF).

Edge level: registered by the app factory; imports the domain and below.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from flask import Flask
from flask_wtf.csrf import CSRFProtect

from ..config import Settings

csrf = CSRFProtect()


def secret_key(settings: Settings) -> str:
    """The key signing Flask's own cookie (CSRF token, LINE Login state): one for all web processes.

    KHABUAN_SECRET_KEY if set; else derived from the channel secret (every process of a deployment
    has it); else (the simulator) a random key kept in the instance folder.
    """
    if settings.secret_key:
        return settings.secret_key
    if settings.channel_secret:
        return hmac.new(settings.channel_secret.encode(), b"khabuan-console-cookies", hashlib.sha256).hexdigest()
    path = settings.instance_path / "console-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def init_console(app: Flask) -> None:
    settings: Settings = app.extensions["khabuan"].settings
    app.config["SECRET_KEY"] = secret_key(settings)
    https = settings.public_url.startswith("https://")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https,
                      WTF_CSRF_TIME_LIMIT=None)  # the token lives as long as the 12-hour session
    # Only the console's forms are checked: /callback is signed by LINE and the simulator is a
    # local tool; both are exempted rather than given tokens they could never carry.
    csrf.init_app(app)
    for name in ("webhook", "simulator"):
        blueprint = app.blueprints.get(name)
        if blueprint is not None:
            csrf.exempt(blueprint)

    from . import auth, pages, people  # noqa: F401 - importing them adds their routes to the blueprint
    from .web import bp

    auth.init_login(app, settings)
    app.register_blueprint(bp)
