"""`khabuan db check`: the models and the schema the migrations build must not drift apart.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (the check itself works in a
scratch schema there, so the suite's schema is left alone).
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, Integer, MetaData, String, Table

from bot import migrate
from bot.cli import main
from bot.models import Base


def models_copy() -> MetaData:
    """The models' tables in a separate MetaData (same naming convention), free to change."""
    copy = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


@pytest.fixture
def db_check(database_url, tmp_path, monkeypatch):
    """Run `khabuan db check` the way an operator or CI does: only DATABASE_URL set."""
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KHABUAN_INSTANCE_PATH", str(tmp_path / "instance"))
    return lambda: CliRunner().invoke(main, ["db", "check"], catch_exceptions=False)


def test_the_migrations_build_what_the_models_declare(db_check):
    result = db_check()
    assert result.exit_code == 0, result.output
    assert "no drift" in result.output


def test_a_column_added_to_a_model_without_a_migration_is_drift(database_url):
    models = models_copy()
    models.tables["members"].append_column(Column("nickname", String(40)))
    assert migrate.check(database_url, models) == ["add_column members nickname"]


def test_a_new_table_and_a_changed_type_are_drift(database_url):
    models = models_copy()
    Table("throwaway", models, Column("id", Integer, primary_key=True))
    models.tables["members"].c.display_name.type = String(200)  # the migrations made String(100)
    differences = migrate.check(database_url, models)
    assert differences[0] == "add_table throwaway"
    assert differences[1].startswith("modify_type members display_name VARCHAR(length=100) String(length=200)")
    assert len(differences) == 2


def test_the_command_prints_the_drift_and_fails(db_check, monkeypatch):
    models = models_copy()
    models.tables["members"].append_column(Column("nickname", String(40)))
    monkeypatch.setattr(Base, "metadata", models)  # undone after the test; the real models stay
    result = db_check()
    assert result.exit_code == 1
    assert "add_column members nickname" in result.output
    assert "schema drift: 1 difference(s)" in result.output
    assert "no drift" not in result.output
