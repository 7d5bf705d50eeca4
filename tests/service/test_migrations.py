"""Migrations build the schema on an empty database, on SQLite and PostgreSQL alike, and go back down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import service.models
from service.core.migrate import alembic_config
from tests.conftest import fresh_database


def test_upgrade_empty_database_matches_the_models(db_kind: str, tmp_path: Path) -> None:
    url, engine = fresh_database(db_kind, tmp_path)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == head
    tables = set(inspect(engine).get_table_names())
    assert set(service.models.metadata.tables) <= tables
    with engine.connect() as conn:
        assert conn.execute(text("select last_event_id from audit_head where id = 1")).scalar() == 0


def test_downgrade_to_base_and_up_again(db_kind: str, tmp_path: Path) -> None:
    url, engine = fresh_database(db_kind, tmp_path)
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(alembic_config(url), "head")
    assert "patient" in inspect(engine).get_table_names()


def test_sqlite_runs_wal_with_foreign_keys(tmp_path: Path) -> None:
    _, engine = fresh_database("sqlite", tmp_path)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
