"""Schema migrations (Alembic) run from code, so the installed package carries them."""
from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, Engine, Index, MetaData, Table, create_engine, pool, text
from sqlalchemy.schema import Constraint

from .db import make_engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "bot:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def heads() -> set[str]:
    """The revisions the code's migrations end at (normally one)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current(connection: Connection) -> set[str]:
    """The revisions the database at `connection` is at (empty: never migrated)."""
    return set(MigrationContext.configure(connection).get_current_heads())


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration against the given (up-to-date) database."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def comparison_options(connection: Connection) -> dict[str, Any]:
    """How the models are compared with a database: the one place for `db revision` and `db check`.

    bot/migrations/env.py configures autogenerate with these, and `check` below compares with them,
    so what `db check` calls drift is exactly what `db revision` would write a migration for.

    Known false positives, and why none is reported (tests/test_db_check.py proves it on SQLite
    and PostgreSQL; add a `compare_type` or `include_object` hook here if one ever appears):
    - UTCDateTime is a TypeDecorator: Alembic compares the type it compiles to, its impl
      `DateTime(timezone=True)` (TIMESTAMP WITH TIME ZONE on PostgreSQL, DATETIME on SQLite,
      whose type names carry no time zone, so both sides read DATETIME).
    - JSON on SQLite: the dialect reflects a column declared JSON as JSON, so the types match.
    - apscheduler_jobs: declared in the models (bot/models/delivery.py) with APScheduler's exact
      columns and created by migration 0002, so it is compared like our own tables, not skipped.
    - Names of indexes and constraints: the models' naming convention (bot/models/base.py) and
      the migrations' `op.f(...)` give the same names on both databases.
    - alembic_version is Alembic's own table and is never compared.
    """
    return {
        "compare_type": True,
        "render_as_batch": connection.dialect.name == "sqlite",  # SQLite can't ALTER most things
    }


@contextmanager
def _scratch_engine(url: str) -> Iterator[Engine]:
    """An empty database of the same kind as `url`, thrown away afterwards.

    SQLite: a file in a temporary folder. PostgreSQL: a temporary schema in the database at `url`
    (first on the search path), so checking never touches the real schema or its data.
    """
    engine = make_engine(url)
    dialect = engine.dialect.name
    if dialect == "sqlite":
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="khabuan-check-") as folder:
            scratch = make_engine(f"sqlite:///{Path(folder) / 'check.sqlite3'}")
            try:
                yield scratch
            finally:
                scratch.dispose()
        return
    if dialect != "postgresql":
        engine.dispose()
        raise ValueError(f"db check supports SQLite and PostgreSQL, not {dialect}")
    schema = f"khabuan_check_{secrets.token_hex(4)}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scratch = create_engine(engine.url, poolclass=pool.NullPool,
                            connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield scratch
    finally:
        scratch.dispose()
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def check(url: str, metadata: MetaData | None = None) -> list[str]:
    """Differences between the models and the schema the migrations build (empty: no drift).

    The migrations run to head in a scratch database of the same kind as `url` (see
    _scratch_engine), and Alembic's autogenerate compares the result with `metadata` (default:
    the models), with the options `db revision` uses.
    """
    if metadata is None:
        from .models import Base

        metadata = Base.metadata
    with _scratch_engine(url) as engine:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts=comparison_options(conn))
            return [_describe(diff) for diff in compare_metadata(context, metadata)]


def _describe(diff: Any) -> str:
    if isinstance(diff, list):  # modify_* diffs come grouped per column
        return "; ".join(_describe(d) for d in diff)
    op, *args = diff
    return " ".join([op, *(_name(arg) for arg in args if arg is not None and not isinstance(arg, dict))])


def _name(thing: Any) -> str:
    if isinstance(thing, Table):
        return thing.name
    if isinstance(thing, Column):
        return str(thing.name)  # its table is named just before it
    if isinstance(thing, Index | Constraint):
        table = getattr(thing, "table", None)
        return f"{thing.name} on {table.name}" if table is not None else str(thing.name)
    return repr(thing) if not isinstance(thing, str) else thing
