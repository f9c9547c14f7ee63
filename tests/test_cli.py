"""Operator commands: seed, grant, revoke, db upgrade, and clear configuration errors."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.models import Member, Province, Role, RoleGrant

UID = "U" + "9" * 32


def test_db_upgrade_and_seed_are_idempotent(cli, db):
    assert cli("db", "upgrade").exit_code == 0
    first = cli("seed")
    assert first.exit_code == 0 and "77 provinces" in first.output
    assert cli("seed").exit_code == 0
    assert db.scalar(select(func.count()).select_from(Province)) == 77


def test_grant_and_revoke(cli, db):
    db.add(Member(line_user_id=UID))
    db.commit()
    result = cli("grant", UID, "coordinator", "--scope", "province:50")
    assert result.exit_code == 0, result.output
    assert cli("grant", UID, "coordinator", "--scope", "province:50").exit_code == 0  # idempotent
    assert cli("grant", UID, "secretariat").exit_code == 0
    grants = db.scalars(select(RoleGrant)).all()
    assert sorted((g.role, g.scope) for g in grants) == [(Role.COORDINATOR, "province:50"),
                                                        (Role.SECRETARIAT, "national")]
    bad = CliRunner().invoke(main, ["grant", UID, "coordinator", "--scope", "province:99"])
    assert bad.exit_code != 0 and "no province with code '99'" in bad.output
    assert cli("revoke", UID, "coordinator").exit_code == 0
    db.rollback()
    assert [g.role for g in db.scalars(select(RoleGrant))] == [Role.SECRETARIAT]


def test_grant_unknown_member(cli):
    result = CliRunner().invoke(main, ["grant", UID, "admin"])
    assert result.exit_code != 0 and "must add the bot first" in result.output


@pytest.mark.parametrize("env, message", [
    ({"BOT_TIMEZONE": "Mars/Olympus"}, "BOT_TIMEZONE"),
    ({"BOT_DEFAULT_LOCALE": "fr"}, "BOT_DEFAULT_LOCALE"),
    ({"LINE_CHANNEL_SECRET": "only-one"}, "both"),
    ({"LINE_API_BASE_URL": "ftp://x"}, "LINE_API_BASE_URL"),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
    ({"BOT_QUIET_HOURS": "late"}, "BOT_QUIET_HOURS"),
])
def test_bad_configuration_is_named(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


# ---- configuration: quiet hours --------------------------------------------------------------


@pytest.mark.parametrize("value", ["off", "OFF", "Off", "none", "None", "", "  off  "])
def test_quiet_hours_can_be_turned_off(value):
    settings = load_settings({"BOT_QUIET_HOURS": value})
    assert settings.quiet_start == settings.quiet_end  # the empty window: nothing is ever held
    from datetime import UTC, datetime

    from bot.delivery.quiet import in_quiet_hours
    for hour in range(24):
        moment = datetime(2026, 11, 27, hour, 30, tzinfo=UTC)
        assert not in_quiet_hours(moment, settings.quiet_start, settings.quiet_end, settings.timezone)


def test_quiet_hours_window_is_parsed():
    settings = load_settings({"BOT_QUIET_HOURS": "22:30-06:00"})
    assert (settings.quiet_start.isoformat(), settings.quiet_end.isoformat()) == ("22:30:00", "06:00:00")
    default = load_settings({})
    assert (default.quiet_start.hour, default.quiet_end.hour) == (21, 7)


@pytest.mark.parametrize("value", ["offf", "21:00", "21:00-07", "25:00-07:00", "21:00-07:00-08:00", "9pm-7am",
                                   "disabled"])
def test_bad_quiet_hours_name_the_variable(value):
    with pytest.raises(ConfigError, match="BOT_QUIET_HOURS.*off"):
        load_settings({"BOT_QUIET_HOURS": value})


# ---- the instance folder: where `khabuan serve` keeps the database, photos and personas --------


@pytest.fixture
def newcomer(tmp_path, monkeypatch):
    """A newcomer's shell: no configuration at all, in a folder of their own."""
    for name in ("KHABUAN_INSTANCE_PATH", "DATABASE_URL", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN",
                 "LINE_API_BASE_URL", "BOT_QUIET_HOURS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_instance_folder_is_under_the_folder_the_command_runs_in(newcomer):
    from bot.cli import _factory  # the app factory every `khabuan` command, `serve` too, runs

    app = _factory()
    services = app.extensions["khabuan"]
    try:
        assert services.settings.instance_path == newcomer / "instance"
        assert app.instance_path == str(newcomer / "instance")
        assert services.settings.media_dir == newcomer / "instance" / "media"
        assert services.settings.database_url == f"sqlite:///{newcomer / 'instance' / 'khabuan.sqlite3'}"
        assert (newcomer / "instance").is_dir()
    finally:
        services.engine.dispose()


def test_db_upgrade_creates_the_database_in_the_working_folder(newcomer):
    result = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (newcomer / "instance" / "khabuan.sqlite3").is_file()


def test_instance_path_variable_overrides_it(newcomer, monkeypatch):
    elsewhere = newcomer / "data" / "khabuan"
    monkeypatch.setenv("KHABUAN_INSTANCE_PATH", str(elsewhere))
    assert load_settings().instance_path == elsewhere
    # A relative value means relative to where the command runs, fixed once (a later chdir moves nothing).
    monkeypatch.setenv("KHABUAN_INSTANCE_PATH", "state")
    assert load_settings().instance_path == newcomer / "state"
