"""Operator commands: seed, grant, revoke, db upgrade, and clear configuration errors."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.models import Member, Province, Role, RoleGrant

from .conftest import SECRET, TOKEN

UID = "U" + "9" * 32


@pytest.fixture
def cli(app, settings, monkeypatch):
    monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("LINE_API_BASE_URL", settings.line_api_base_url)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KHABUAN_INSTANCE_PATH", str(settings.instance_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


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
