"""Alembic environment: the URL comes from the app's settings, never from alembic.ini."""
from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from bot.migrate import comparison_options
from bot.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config({"sqlalchemy.url": config.get_main_option("sqlalchemy.url")}, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **comparison_options(connection),  # the same comparison `khabuan db check` makes
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - we always migrate online
    raise SystemExit("offline migrations are not supported")
run_migrations()
