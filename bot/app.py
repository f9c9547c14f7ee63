"""create_app(): configuration, database, LINE gateway, routes and CLI. Never touches the schema."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import text

from .config import Settings, load_settings
from .dispatch import Dispatcher
from .handlers import build_router
from .services import build_services
from .webhook import MAX_BODY

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
    app.extensions["khabuan"] = build_services(settings)
    app.extensions["khabuan.dispatcher"] = Dispatcher(build_router())
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

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
        try:
            with app.extensions["khabuan"].engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            return {"status": "database unavailable"}, 503
        return {"status": "ok"}, 200

    return app
