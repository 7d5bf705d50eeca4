"""Run Alembic migrations from code (the CLI, `make run` and the tests all come through here)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from service.core.db import normalize_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration against the database at ``url`` (developer tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
