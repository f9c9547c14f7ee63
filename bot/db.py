"""Engine and sessions.

One engine per process; one session per webhook event or job, committed as a
unit, so the domain change, the conversation state and any outbox row land
together or not at all.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pre_ping: bool = True) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # pysqlite's own transaction handling breaks SAVEPOINTs (a RELEASE would commit
            # the outer transaction), so SQLAlchemy issues BEGIN itself (see "begin" below).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Deferred: in WAL mode readers never block the writer. SQLite is the one-process
            # embedded default; PostgreSQL is where several processes write at once.
            conn.exec_driver_sql("BEGIN")

        return engine
    # hide_parameters: SQL errors in logs must not carry names or phone numbers.
    # pre_ping: a round trip (SELECT 1) before each checkout, so a connection PostgreSQL dropped is
    # replaced unseen. The web app turns it off (one round trip of ~7 per webhook event) and retries
    # an event whose connection turned out dead instead (bot/webhook.py).
    return create_engine(url, pool_pre_ping=pre_ping, pool_size=10, max_overflow=20, hide_parameters=True)


def recreate_schema(engine: Engine) -> None:
    """Empty a PostgreSQL database (tests, benchmarks): drop and recreate its public schema."""
    if engine.dialect.name != "postgresql":
        raise ValueError("recreate_schema is for PostgreSQL; SQLite runs use a fresh file")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: handlers build replies from objects after the commit.
    return sessionmaker(engine, expire_on_commit=False)


def insert_or_skip(session: Session, model: type[Any], *conflict_columns: str) -> Any:
    """`INSERT … ON CONFLICT (conflict_columns) DO NOTHING` for the session's database, ready for
    `.values(...)` and `.returning(...)`: a uniqueness race settles in ONE statement (no SAVEPOINT,
    INSERT, RELEASE and no exception). A row that is already there, or being inserted by a
    transaction still open, makes the insert return no row (PostgreSQL first waits for that
    transaction to finish, exactly as a plain INSERT would)."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return insert(model).on_conflict_do_nothing(index_elements=list(conflict_columns))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    with factory() as session:
        with session.begin():
            yield session


T = TypeVar("T")


def once_more_if_dropped(session: Session, work: Callable[[], T]) -> T:
    """Run `work` (a request's first statements); on a connection the server had dropped, once more.

    The web app's pool does not ping connections before use (bot/app.py): after a PostgreSQL
    restart or failover, the first statement on a pooled connection fails. SQLAlchemy then
    discards every connection of that age, so after a rollback `work` runs on a fresh one, and
    so does the rest of the request. Any other error is raised as it is.
    """
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        session.rollback()
        return work()
