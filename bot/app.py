"""create_app(): configuration, database, LINE gateway, routes and CLI. Never touches the schema."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask, Response, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from . import logs, metrics, migrate
from .config import Settings, load_settings
from .dispatch import Dispatcher
from .handlers import build_router
from .services import build_services
from .webhook import MAX_BODY

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .emulator import LineEmulator


def create_app(settings: Settings | None = None, *, emulator: LineEmulator | None = None) -> Flask:
    """The app; given the emulator it talks to (`khabuan serve` without a channel), also /simulator."""
    # ./instance of the folder the command runs in (or KHABUAN_INSTANCE_PATH), not Flask's guess,
    # which for an installed package is a folder next to it (site-packages, or <prefix>/var).
    settings = settings or load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(settings.instance_path.absolute()), instance_relative_config=True)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    # No ping before each pooled connection is used: a webhook event retries once on a dropped
    # connection instead (bot/webhook.py), as do the console's first statement of a request, the
    # chart images and /readyz (db.once_more_if_dropped), and every event saves a round trip.
    app.extensions["khabuan"] = build_services(settings, pre_ping=False)
    app.extensions["khabuan.dispatcher"] = Dispatcher(build_router())
    logs.configure(settings.log_format, settings.log_level)
    code_heads = migrate.heads()  # read once: the code does not change while it runs

    from .webhook import bp as webhook_bp

    app.register_blueprint(webhook_bp)
    from .chart_images import bp as chart_images_bp

    app.register_blueprint(chart_images_bp)
    if emulator is not None:  # never in production: the page can act as any user
        from .simulator import init_simulator

        init_simulator(app, emulator)
    from .console import init_console

    init_console(app)  # after the webhook and simulator: it exempts them from its CSRF check

    @app.get("/healthz")
    def healthz():
        """Liveness: the process answers requests. Nothing else is asked (a database outage must not
        make an orchestrator restart every web process); readiness is /readyz."""
        return {"status": "ok"}, 200

    @app.get("/readyz")
    def readyz():
        """Readiness: the database answers and its schema is at the code's migration head."""
        for attempt in (1, 2):
            try:
                with app.extensions["khabuan"].engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                    at = migrate.current(conn)
                break
            except Exception as exc:  # noqa: BLE001 - any database failure means not ready
                # No ping before use: a pooled connection PostgreSQL dropped is discarded (with every
                # one of its age) and a fresh one asked once more, rather than reporting not ready.
                if attempt == 1 and isinstance(exc, DBAPIError) and exc.connection_invalidated:
                    continue
                log.warning("readiness: database unavailable", exc_info=True)
                return {"status": "database unavailable"}, 503
        if at != code_heads:
            return {"status": "migrations pending", "database": sorted(at), "code": sorted(code_heads)}, 503
        return {"status": "ok"}, 200

    @app.get("/metrics")
    def metrics_endpoint():
        """Prometheus metrics, for a scraper holding METRICS_TOKEN (no token configured: 404)."""
        token = settings.metrics_token
        if not token:
            return Response("not found\n", 404, mimetype="text/plain")
        if not metrics.authorized(request.headers.get("Authorization"), token):
            return Response("unauthorized\n", 401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        body, content_type = metrics.exposition(app.extensions["khabuan"].session_factory)
        return Response(body, 200, headers={"Content-Type": content_type, "Cache-Control": "no-store"})

    return app
