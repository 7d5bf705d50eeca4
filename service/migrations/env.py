"""Alembic environment: migrates the database named in the config (or the TMS_ settings)."""

from __future__ import annotations

from alembic import context

import service.models
from config.settings import get_settings
from service.core.db import is_sqlite, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=service.models.metadata,
            render_as_batch=is_sqlite(url),  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
