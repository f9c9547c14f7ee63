"""create_app(): configuration, database, LINE gateway, routes and CLI. Never touches the schema."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings, load_settings
from .db import make_engine, make_session_factory
from .delivery import Sender
from .dispatch import Dispatcher
from .handlers import build_router
from .line import LineGateway

if TYPE_CHECKING:
    from .emulator import LineEmulator

MAX_BODY = 1024 * 1024  # LINE's webhook bodies are far smaller; anything bigger is not LINE


@dataclass
class Services:
    """Everything a request or job needs, built once per process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    gateway: LineGateway
    dispatcher: Dispatcher
    sender: Sender

    def deliver_now(self, outbox_ids: Sequence[int]) -> None:
        """Send pushes queued by an event right after it committed; the worker retries leftovers."""
        self.sender.deliver(ids=list(outbox_ids))


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    gateway = LineGateway(settings)
    return Services(settings, engine, factory, gateway, Dispatcher(build_router()),
                    Sender(factory, gateway, settings))


def create_app(settings: Settings | None = None, *, emulator: LineEmulator | None = None) -> Flask:
    """The app; given the emulator it talks to (`khabuan serve` without a channel), also /simulator."""
    # ./instance of the folder the command runs in (or KHABUAN_INSTANCE_PATH), not Flask's guess,
    # which for an installed package is a folder next to it (site-packages, or <prefix>/var).
    settings = settings or load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(settings.instance_path.absolute()), instance_relative_config=True)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["khabuan"] = build_services(settings)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from .webhook import bp as webhook_bp

    app.register_blueprint(webhook_bp)
    if emulator is not None:  # never in production: the page can act as any user
        from .simulator import init_simulator

        init_simulator(app, emulator)

    @app.get("/healthz")
    def healthz():
        try:
            with app.extensions["khabuan"].engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            return {"status": "database unavailable"}, 503
        return {"status": "ok"}, 200

    return app
