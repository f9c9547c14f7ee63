"""What every request, job and command shares, built once per process: the bottom of the layers.

Domain modules and jobs take a `Services`; nothing here knows about chat, handlers or Flask, so
any layer may import it (the application factory in `app.py` builds one; the worker and the CLI
build theirs the same way).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db import make_engine, make_session_factory
from .delivery import Sender
from .line import LineGateway
from .media import MediaStore, media_store
from .models import utcnow


@dataclass
class Services:
    """Everything a request or job needs, built once per process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    gateway: LineGateway
    sender: Sender
    media: MediaStore  # where photos' bytes are (bot.media): the instance folder or S3

    def deliver_now(self, outbox_ids: Sequence[int]) -> None:
        """Send pushes queued by an event right after it committed; the worker retries leftovers."""
        self.sender.deliver(ids=list(outbox_ids), now=utcnow())


def build_services(settings: Settings, *, pre_ping: bool = True) -> Services:
    engine = make_engine(settings.database_url, pre_ping=pre_ping)
    factory = make_session_factory(engine)
    gateway = LineGateway(settings)
    return Services(settings, engine, factory, gateway, Sender(factory, gateway, settings), media_store(settings))
