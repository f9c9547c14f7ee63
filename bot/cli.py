"""The `khabuan` command: a FlaskGroup over the app factory, plus operator commands."""
from __future__ import annotations

import csv
import io
import json
import os
import secrets
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select
from werkzeug.serving import make_server, run_simple

from . import agenda_import as agenda_file
from . import appointments, assembly, audit, migrate, roles
from .app import create_app
from .config import ConfigError, Settings
from .models import AgendaItem, AuditAction, AuditVia, Member, Role
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


@db.command("check")
@with_appcontext
def db_check() -> None:
    """Fail if the models differ from the schema the migrations build (a missing migration).

    The migrations run in a scratch database of DATABASE_URL's kind (SQLite: a temporary file;
    PostgreSQL: a temporary schema, dropped afterwards); the database itself is not changed.
    """
    differences = migrate.check(_services().settings.database_url)
    if not differences:
        click.echo("no drift: the migrations build the schema the models declare")
        return
    for difference in differences:
        click.echo(f"  {difference}")
    click.echo(f"schema drift: {len(differences)} difference(s) between the models and the migrations; "
               'write a migration with `khabuan db revision -m "why"`', err=True)
    sys.exit(1)


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
    """Give a member a role in a scope (written to the audit log as done at the server)."""
    from .models import utcnow

    with _services().session_factory() as session, session.begin():
        member = _member(session, line_user_id)
        try:
            where = roles.resolve(session, scope)
        except roles.ScopeError as exc:
            raise click.ClickException(str(exc)) from None
        if not appointments.operator_grant(session, member, Role(role), where, via=AuditVia.CLI, now=utcnow()):
            click.echo(f"member {member.id} already has {role} ({where})")
            return
        click.echo(f"granted {role} ({where}) to member {member.id}")


@main.command()
@click.argument("line_user_id")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--scope", default=None, help="only this scope (default: every scope of that role)")
@with_appcontext
def revoke(line_user_id: str, role: str, scope: str | None) -> None:
    """Take a role away from a member (written to the audit log)."""
    from .models import utcnow

    now = utcnow()
    with _services().session_factory() as session, session.begin():
        member = _member(session, line_user_id)
        try:
            wanted = roles.resolve(session, scope) if scope is not None else None
        except roles.ScopeError as exc:
            raise click.ClickException(str(exc)) from None
        gone = [g.scope for g in member.roles if g.role is Role(role) and (wanted is None or g.scope == str(wanted))]
        n = roles.revoke(session, member, Role(role), scope)
        for where in gone:
            audit.record(session, action=AuditAction.REVOKE, via=AuditVia.CLI, now=now, subject=member,
                         role=Role(role), scope=roles.Scope.parse(where))
        click.echo(f"revoked {n} grant(s) of {role} from member {member.id}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Newcomer command: migrate, seed, and run the bot on this machine.

    Without LINE credentials it runs everything a laptop needs to try the bot: the local LINE
    emulator, the web app with the chat simulator, and the worker (pushes and scheduled jobs).
    """
    services = _services()
    migrate.upgrade(services.engine)
    with services.session_factory() as session, session.begin():
        seed_reference_data(session)
    if services.settings.has_channel:
        click.echo(f"Khabuan listening on http://{host}:{port}  (webhook: /callback, health: /healthz)")
        # Flask refuses app.run() inside its own CLI; werkzeug's server is what it would use anyway.
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
        return
    _serve_with_emulator(services.settings, host, port)


def _serve_with_emulator(settings: Settings, host: str, port: int) -> None:
    """Emulator, app and worker in this process until Ctrl-C (or SIGTERM), then all stop."""
    import signal
    import threading
    from dataclasses import replace

    from . import richmenu
    from .worker import Worker, WorkerOptions
    from .emulator import LineEmulator
    from .schedule import build_registry

    # A fresh secret and token per run: nothing outside this process can talk to the bot as LINE.
    token = secrets.token_urlsafe(32)
    emulator = LineEmulator(access_token=token, strict=False)  # lenient: show what LINE would refuse
    emulator.quota_limit = None  # a workshop demo must not stop at the free plan's monthly quota
    emulator.start()
    # LINE Login against the emulator too, so the console's "Sign in with LINE" works offline;
    # sign-in links in chat point at this server unless KHABUAN_PUBLIC_URL says otherwise.
    login_id, login_secret = "2000000001", secrets.token_hex(16)
    emulator.login.set_channel(login_id, login_secret)
    public_url = os.environ.get("KHABUAN_PUBLIC_URL") or f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    local = replace(settings, channel_secret=secrets.token_hex(16), channel_access_token=token,
                    line_api_base_url=emulator.base_url, public_url=public_url.rstrip("/"),
                    login_channel_id=login_id, login_channel_secret=login_secret,
                    login_metadata_url=f"{emulator.base_url}/.well-known/openid-configuration")
    app = create_app(local, emulator=emulator)
    services = app.extensions["khabuan"]
    worker = Worker(services, build_registry(), WorkerOptions(poll=0.5))
    worker_thread = threading.Thread(target=worker.run, name="worker", daemon=True)

    def stop_on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # ends serve_forever like Ctrl-C, then the finally below runs

    previous = signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        deployed = richmenu.deploy(services.gateway.rich_menus)
        click.echo(f"rich menu {deployed.rich_menu_id} deployed to the emulator")
        server = make_server(host, port, app, threaded=True)  # bound now: the URL printed below answers
        worker_thread.start()
        click.echo("No LINE channel configured: running the local LINE emulator at " + emulator.base_url)
        click.echo(f"Chat simulator: http://{host}:{port}/simulator/   (Ctrl-C stops everything)")
        click.echo(f"Web console:    http://{host}:{port}/console/   (a persona types เปิดแดชบอร์ด for a link)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    finally:
        signal.signal(signal.SIGTERM, previous)
        worker.stop()
        if worker_thread.is_alive():
            worker_thread.join(timeout=30)
        services.gateway.close()
        emulator.stop()
        services.engine.dispose()
        click.echo("stopped: web app, worker and emulator")


@main.group()
def richmenu() -> None:
    """The rich menu under every 1:1 chat."""


@richmenu.command("deploy")
@click.option("--locale", type=click.Choice(["th", "en"]), default="th", show_default=True,
              help="language of the buttons' display texts and chat bar (the image shows both)")
@with_appcontext
def richmenu_deploy(locale: str) -> None:
    """Create the six-button menu, upload its image, make it default; replaces the previous one."""
    from . import richmenu as menu
    from .line import LineApiError

    services = _services()
    if not services.settings.has_channel:
        raise click.ClickException("no LINE channel configured (LINE_CHANNEL_SECRET / LINE_CHANNEL_ACCESS_TOKEN)")
    try:
        deployed = menu.deploy(services.gateway.rich_menus, locale)
    except LineApiError as exc:
        raise click.ClickException(str(exc)) from None
    replaced = f", replaced {', '.join(deployed.replaced)}" if deployed.replaced else ""
    click.echo(f"rich menu {deployed.rich_menu_id} is the default ({deployed.image_bytes:,} byte image{replaced})")


# ---- delivery: outbox, quota, worker, jobs -------------------------------------------------


def _bangkok(moment, tz) -> str:
    return "-" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


@main.group(invoke_without_command=True)
@click.option("--limit", default=100, show_default=True, help="rows to show")
@click.pass_context
@with_appcontext
def outbox(ctx: click.Context, limit: int) -> None:
    """List pending and failed pushes (never recipients or message text: personal data)."""
    if ctx.invoked_subcommand is not None:
        return
    from .delivery.quiet import quiet_ends_at
    from .models import OutboxMessage, OutboxStatus, utcnow

    services = _services()
    s = services.settings
    now = utcnow()
    with services.session_factory() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.cost, OutboxMessage.priority,
                   OutboxMessage.urgent, OutboxMessage.status, OutboxMessage.attempts,
                   OutboxMessage.next_attempt_at, OutboxMessage.last_error)
            .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
            .order_by(OutboxMessage.status, OutboxMessage.priority, OutboxMessage.id).limit(limit)).all()
    if not rows:
        click.echo("outbox empty: nothing pending or failed")
        return
    click.echo(f"{'id':>8}  {'kind':<28} {'to':>5} {'pri':>3} {'status':<7} {'tries':>5}  "
               f"{'next attempt (' + s.timezone.key + ')':<26} last error")
    for r in rows:
        if r.status is OutboxStatus.PENDING:
            due = max(r.next_attempt_at, now)
            # Non-urgent rows due in quiet hours really go when they end.
            nxt = _bangkok(due if r.urgent else quiet_ends_at(due, s.quiet_start, s.quiet_end, s.timezone), s.timezone)
        else:
            nxt = "-"
        error = (r.last_error or "").replace("\n", " ")[:70]
        click.echo(f"{r.id:>8}  {r.kind[:28]:<28} {r.cost:>5} {r.priority:>3} {r.status.value:<7} "
                   f"{r.attempts:>5}  {nxt:<26} {error}")


@outbox.command("retry")
@click.argument("row_id", type=int)
@with_appcontext
def outbox_retry(row_id: int) -> None:
    """Send a failed push again (with the same retry key, so LINE never delivers it twice)."""
    from .models import OutboxMessage, OutboxStatus, utcnow

    with _services().session_factory() as session, session.begin():
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        if row is None:
            raise click.ClickException(f"no outbox row {row_id}")
        if row.status is not OutboxStatus.FAILED:
            raise click.ClickException(f"outbox row {row_id} is {row.status.value}, not failed")
        row.status, row.attempts, row.next_attempt_at = OutboxStatus.PENDING, 0, utcnow()
        row.claimed_until = row.claim_token = None
    click.echo(f"outbox row {row_id} is pending again; the worker sends it on its next pass")


@main.command()
@with_appcontext
def quota() -> None:
    """This month's LINE message quota: used, remaining, and what the outbox still needs."""
    from .delivery.quota import month_key, queued_cost
    from .models import Priority, utcnow

    services = _services()
    info = services.gateway.quota()
    with services.session_factory() as session:
        queued = queued_cost(session)
        important = queued_cost(session, below_priority=Priority.LOW)
    click.echo(f"month:     {month_key(utcnow(), services.settings)}")
    if info is None:
        click.echo("LINE:      quota could not be read (see the log)")
    else:
        click.echo(f"used:      {info.used:,}")
        click.echo("remaining: unlimited" if info.remaining is None else f"remaining: {info.remaining:,}")
    click.echo(f"queued:    {queued:,} (high/normal {important:,}, low {queued - important:,})")
    if info is not None and info.remaining is not None and queued > info.remaining:
        click.echo("warning:   the queue needs more than is left; low-priority pushes wait")


@main.command()
@click.option("--batch", default=50, show_default=True, help="rows leased per pass")
@click.option("--poll", default=1.0, show_default=True, help="seconds to rest when nothing is due")
@click.option("--rate", default=100.0, show_default=True, help="requests/second per LINE endpoint, this process")
@click.option("--lease-seconds", default=30.0, show_default=True, help="scheduler lease lifetime")
@click.option("--no-scheduler", is_flag=True, help="only send; never run scheduled jobs")
@click.option("--metrics-port", type=int, envvar="WORKER_METRICS_PORT", default=None,
              help="serve /metrics (Bearer METRICS_TOKEN) on this port [env WORKER_METRICS_PORT]")
@click.option("--job-module", "job_modules", multiple=True, hidden=True,
              help="extra module with register_jobs(registry) (tests, one-off operations)")
@with_appcontext
def worker(batch: int, poll: float, rate: float, lease_seconds: float, no_scheduler: bool,
           metrics_port: int | None, job_modules: tuple[str, ...]) -> None:
    """Send the outbox and (on one elected worker) run scheduled jobs, until SIGTERM."""
    from datetime import timedelta

    from .delivery.ratelimit import EndpointLimiter
    from .worker import Worker, WorkerOptions
    from .schedule import build_registry

    services = _services()
    services.sender.limiter = EndpointLimiter(rate)
    ttl = timedelta(seconds=lease_seconds)
    options = WorkerOptions(batch=batch, poll=poll, lease_ttl=ttl, renew=ttl / 3, scheduler=not no_scheduler)
    server = None
    if metrics_port:
        from .metrics import serve_in_thread

        # Without METRICS_TOKEN it answers 404, as the web's /metrics does.
        server = serve_in_thread(metrics_port, services.session_factory, services.settings.metrics_token)
    try:
        Worker(services, build_registry(job_modules), options).run()
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


@main.group()
def jobs() -> None:
    """Scheduled jobs (run by the worker that holds the scheduler lease)."""


@jobs.command("list")
@with_appcontext
def jobs_list() -> None:
    """Every registered job: schedule, next run and last run (local time)."""
    from .jobs import last_runs, next_fire_time
    from .models import utcnow
    from .schedule import build_registry

    services = _services()
    tz = services.settings.timezone
    now = utcnow()  # the command's moment: every "next" is counted from it
    latest = last_runs(services)
    registry = build_registry()
    if not len(registry):
        click.echo("no jobs registered")
        return
    for spec in registry:
        schedule = " ".join(f"{k}={v}" for k, v in spec.trigger.items())
        run = latest.get(spec.name)
        last = "never" if run is None else f"{_bangkok(run.fire_time, tz)} {run.status}"
        click.echo(f"{spec.name:<24} {schedule:<28} next {_bangkok(next_fire_time(spec, tz, now), tz)}  "
                   f"last {last}")
        click.echo(f"{'':<24} {spec.description}")


@jobs.command("run")
@click.argument("name")
@with_appcontext
def jobs_run(name: str) -> None:
    """Run a job now (fire time = now), through the same once-only path as the scheduler."""
    from .worker import worker_identity
    from .jobs import run_job
    from .schedule import build_registry
    from .models import utcnow

    spec = build_registry().get(name)
    if spec is None:
        raise click.ClickException(f"no job named {name!r}; see `khabuan jobs list`")
    outcome = run_job(_services(), spec, utcnow(), f"cli:{worker_identity()}")
    if not outcome.ran:
        click.echo(f"{name} already ran for this second; nothing done")
    elif outcome.status == "failed":
        raise click.ClickException(f"{name} failed: {outcome.error}")
    else:
        click.echo(f"{name} done" + ("" if outcome.result is None else f": {outcome.result}"))


# ---- the national assembly (issue 4) ------------------------------------------------------------


@main.group()
def agenda() -> None:
    """The national assembly's agenda: import items, export results."""


@agenda.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def agenda_import(file: Path) -> None:
    """Import sessions and agenda items from YAML or CSV (all or nothing)."""
    services = _services()
    tz = services.settings.timezone
    try:
        sessions = agenda_file.parse_file(file, today=datetime.now(tz).date(), tz=tz)
    except agenda_file.AgendaFileError as exc:
        raise click.ClickException("nothing imported:\n" + "\n".join(exc.problems)) from None
    with services.session_factory() as session, session.begin():
        items = agenda_file.save(session, sessions)
        for item in items:
            click.echo(f"item {item.id}: {item.title} (opens {item.opens_at.astimezone(tz):%Y-%m-%d %H:%M}, "
                       f"closes {item.closes_at.astimezone(tz):%Y-%m-%d %H:%M})")
    click.echo(f"imported {len(items)} agenda item(s)")


@agenda.command("results")
@click.argument("item_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@with_appcontext
def agenda_results(item_id: int, fmt: str) -> None:
    """Export an item's result: totals, turnout, quorum, decision, by region.

    A secret ballot's export names who voted, never how; an open ballot's adds who voted what.
    """
    with _services().session_factory() as session:
        item = session.get(AgendaItem, item_id)
        if item is None:
            raise click.ClickException(f"no agenda item {item_id}")
        data = assembly.result_dict(session, item, assembly.tally(session, item))
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out = io.StringIO()
    writer = csv.writer(out)
    labels = [o["label"] for o in data["options"]]
    writer.writerow(["item_id", "region", "region_name", "eligible", "voted", *labels, "quorum_met", "outcome"])
    writer.writerow([item_id, "all", "", data["eligible"], data["voted"], *[o["votes"] for o in data["options"]],
                     data["quorum_met"], data["outcome"]])
    for region in data["by_region"]:
        writer.writerow([item_id, region["region"], region["name"], region["eligible"], region["voted"],
                         *[region["votes"][label] for label in labels], "", ""])
    click.echo(out.getvalue(), nl=False)


@main.group()
def delegates() -> None:
    """Assembly delegates (the delegate role with a province, group or region scope)."""


@delegates.command("check")
@with_appcontext
def delegates_check() -> None:
    """Seats against the composition (3 per province, 2 per group, 5 per region): confirmed,
    nominated (waiting for the secretariat) and invited (waiting for the person to register)."""
    from .models import utcnow

    with _services().session_factory() as session:
        rows, doubles, national = assembly.seat_report(session)
        holders = appointments.seat_holders(session, utcnow())
        names = dict(session.execute(select(Member.id, func.coalesce(Member.full_name, Member.display_name,
                                                                     Member.line_user_id))).all())
    waiting: dict[tuple, dict[str, int]] = {}
    for scope, held in holders.items():
        for holder in held:
            counts = waiting.setdefault((scope.kind, scope.code), {"nominated": 0, "invited": 0})
            if holder.state in counts:
                counts[holder.state] += 1
    for row in rows:
        mark = "ok" if row.filled == row.required else ("MISSING" if row.filled < row.required else "OVER")
        more = waiting.get((row.kind, row.code), {"nominated": 0, "invited": 0})
        extra = f"  (nominated {more['nominated']}, invited {more['invited']})" if any(more.values()) else ""
        click.echo(f"{row.kind.value:<8} {row.code:<12} {row.name:<28} {row.filled}/{row.required}  {mark}{extra}")
    filled = sum(min(r.filled, r.required) for r in rows)
    required = sum(r.required for r in rows)
    nominated = sum(c["nominated"] for c in waiting.values())
    invited = sum(c["invited"] for c in waiting.values())
    click.echo(f"seats filled: {filled}/{required} confirmed; {nominated} nominated, waiting for the secretariat; "
               f"{invited} invited, waiting to register")
    for member_id, seats in sorted(doubles.items()):
        click.echo(f"member {member_id} ({names.get(member_id, '?')}) holds {len(seats)} seats: "
                   f"{', '.join(seats)} (one vote)")
    for member_id in national:
        click.echo(f"member {member_id} ({names.get(member_id, '?')}) has a national delegate grant, which is "
                   "not a seat: no vote until given a province, group or region")


@delegates.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def delegates_import(file: Path) -> None:
    """Seat delegates from a CSV or XLSX file (columns: name, phone, seat); all or nothing.

    Registered members with the phone get their seat; the others an invitation (30 days) that
    attaches when they register. Importing the same file again changes nothing.
    """
    from . import delegate_import
    from .models import utcnow

    services = _services()
    now = utcnow()
    try:
        rows = delegate_import.read_rows(file)
        with services.session_factory() as session, session.begin():
            report = delegate_import.import_delegates(session, rows, now=now)
    except delegate_import.ImportProblems as exc:
        raise click.ClickException("nothing imported:\n" + "\n".join(exc.problems)) from None
    for start in range(0, len(report.outbox), 50):  # the seated are told now; the worker retries any failure
        services.sender.deliver(ids=report.outbox[start:start + 50], limit=50, now=utcnow())
    click.echo(f"{len(rows)} row(s): {report.seated} seated, {report.invited} invited, {report.unchanged} unchanged")


@main.group()
def members() -> None:
    """Members (personal data: shown on this terminal only, never logged)."""


@members.command("find")
@click.argument("text")
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def members_find(text: str, limit: int) -> None:
    """Find members by LINE user id, phone, or (part of) a name: id, LINE id, name, province, roles."""
    with _services().session_factory() as session:
        exact = session.scalars(select(Member).where(Member.line_user_id == text.strip())).all()
        found = list(exact) or appointments.find_people(session, None, text, limit=limit)
        if not found:
            click.echo("nobody found")
            return
        for m in found:
            grants = ", ".join(f"{g.role.value}({g.scope})" for g in m.roles) or "-"
            province = m.province.name_th if m.province else "-"
            name = m.full_name or m.display_name or "-"
            click.echo(f"{m.id:>6}  {m.line_user_id}  {name}  {province}  {grants}")


@main.command("audit")
@click.option("--since", "since", default=None, help="YYYY-MM-DD (Bangkok): only entries from that day on")
@click.option("--member", "member", default=None, help="only entries by or about members matching this")
@click.option("--limit", default=200, show_default=True)
@with_appcontext
def audit_log(since: str | None, member: str | None, limit: int) -> None:
    """The audit log, newest first: who granted, revoked, nominated, confirmed or invited whom."""
    from datetime import date, time

    services = _services()
    tz = services.settings.timezone
    start = None
    if since:
        try:
            start = datetime.combine(date.fromisoformat(since), time(0), tz)
        except ValueError:
            raise click.ClickException(f"--since {since!r}: use YYYY-MM-DD") from None
    with services.session_factory() as session:
        rows = audit.entries(session, since=start, member=member, limit=limit)
        lines = audit.lines(rows, erased_label="(a member who has deleted their data)", personal=True)
    if not lines:
        click.echo("no entries")
        return
    for line in lines:
        details = " ".join(f"{k}={v}" for k, v in sorted(line.details.items()))
        click.echo(f"{_bangkok(line.at, tz)}  {line.action.value:<15} {line.via.value:<7} "
                   f"by {line.actor or 'operator/system'}  to {line.subject or '-'}  "
                   f"{line.role or '-'} {line.scope or '-'}  {details}".rstrip())


@main.command("export")
@click.argument("kind", type=click.Choice(["organizations", "reports", "delegates", "results"]))
@click.option("--scope", "scope_text", default="national", show_default=True,
              help="national, region:CODE, group:CODE or province:CODE")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (default: the export's own name, in the current directory; - for stdout)")
@click.option("--personal", is_flag=True, help="include names and phone numbers (personal data)")
@click.option("--lang", type=click.Choice(["th", "en"]), default="th", show_default=True, help="column headers")
@with_appcontext
def export_command(kind: str, scope_text: str, fmt: str, out_path: Path | None, personal: bool, lang: str) -> None:
    """Export organizations, activity reports, delegates or assembly results as CSV or XLSX.

    Streamed: a million reports are written with flat memory. The export is recorded in the audit log.
    """
    from . import audit, exports
    from .models import AuditAction, AuditVia, utcnow
    from .scopes import ScopeError, resolve

    services = _services()
    now = utcnow()
    with services.session_factory() as session:
        try:
            scope = resolve(session, scope_text)
        except ScopeError as exc:
            raise click.ClickException(str(exc)) from None
        result = exports.export(session, kind, scope, fmt=fmt, personal=personal, now=now, locale=lang,
                                tz=services.settings.timezone)
        target = out_path or Path(result.filename)
        written = 0
        if str(target) == "-":
            stream = click.get_binary_stream("stdout")
            for chunk in result.chunks:
                stream.write(chunk)
                written += len(chunk)
        else:
            with open(target, "wb") as file:
                for chunk in result.chunks:
                    file.write(chunk)
                    written += len(chunk)
        session.rollback()  # the export only read; the audit entry is its own transaction
        with session.begin():
            audit.record(session, action=AuditAction.EXPORT, via=AuditVia.CLI, now=now, scope=scope,
                         details={"kind": kind, "format": fmt, "personal": personal})
    if str(target) != "-":
        click.echo(f"wrote {target} ({written:,} bytes)", err=True)
