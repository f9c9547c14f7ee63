"""The `khabuan` command: a FlaskGroup over the app factory, plus operator commands."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select
from werkzeug.serving import run_simple

from . import migrate, roles
from .app import create_app
from .config import ConfigError
from .models import Member, Role
from .seed import seed as seed_reference_data


def _services():
    return current_app.extensions["khabuan"]


def _factory():
    try:
        return create_app()
    except ConfigError as exc:  # a clear message, not a traceback
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_factory, add_default_commands=True, add_version_option=False)
def main() -> None:
    """Khabuan (ขบวน): the LINE bot of the community-organization movement."""


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest (or given) revision."""
    migrate.upgrade(_services().engine, revision)
    click.echo(f"database at {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """(Developers) autogenerate a migration from the models."""
    migrate.revision(_services().engine, message)


@main.command()
@with_appcontext
def seed() -> None:
    """Load regions, province groups, provinces and strategic issues (idempotent)."""
    services = _services()
    with services.session_factory() as session, session.begin():
        counts = seed_reference_data(session)
    click.echo(", ".join(f"{n} {name}" for name, n in counts.items()))


def _member(session, line_user_id: str) -> Member:
    member = session.scalar(select(Member).where(Member.line_user_id == line_user_id))
    if member is None:
        raise click.ClickException(f"no member with LINE user id {line_user_id}; they must add the bot first")
    return member


ROLE_CHOICE = click.Choice([r.value for r in Role])


@main.command()
@click.argument("line_user_id")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--scope", default="national", show_default=True,
              help="national | region:<code> | group:<code> | province:<code>")
@with_appcontext
def grant(line_user_id: str, role: str, scope: str) -> None:
    """Give a member a role in a scope."""
    with _services().session_factory() as session, session.begin():
        member = _member(session, line_user_id)
        try:
            row = roles.grant(session, member, Role(role), scope)
        except roles.ScopeError as exc:
            raise click.ClickException(str(exc)) from None
        session.flush()
        click.echo(f"granted {role} ({row.scope}) to member {member.id}")


@main.command()
@click.argument("line_user_id")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--scope", default=None, help="only this scope (default: every scope of that role)")
@with_appcontext
def revoke(line_user_id: str, role: str, scope: str | None) -> None:
    """Take a role away from a member."""
    with _services().session_factory() as session, session.begin():
        member = _member(session, line_user_id)
        try:
            n = roles.revoke(session, member, Role(role), scope)
        except roles.ScopeError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"revoked {n} grant(s) of {role} from member {member.id}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Newcomer command: migrate, seed, and run the bot on this machine."""
    services = _services()
    migrate.upgrade(services.engine)
    with services.session_factory() as session, session.begin():
        seed_reference_data(session)
    if not services.settings.has_channel:
        click.echo("No LINE channel configured (LINE_CHANNEL_SECRET / LINE_CHANNEL_ACCESS_TOKEN):"
                   " the webhook will refuse every request until you set them.")
    click.echo(f"Khabuan listening on http://{host}:{port}  (webhook: /callback, health: /healthz)")
    # Flask refuses app.run() inside its own CLI; werkzeug's server is what it would use anyway.
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
