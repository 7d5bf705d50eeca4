"""Many rows in one INSERT whose text does not grow with the number of rows.

SQLAlchemy sends a multi-row insert as ``VALUES (...), (...)``: one parameter per column per row. On PostgreSQL
psycopg rewrites every statement with more than 50 parameters from scratch (it caches only short ones), and the
server plans each new text anew. ``INSERT ... SELECT FROM unnest(one array per column)`` is one text for any
number of rows, which psycopg caches and PostgreSQL prepares once per connection. SQLite, whose driver needs no
rewriting, keeps the plain multi-row insert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Insert, Row, Table, bindparam, cast, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]],
                returning: tuple[str, ...]) -> Sequence[Row[Any]]:
    """Insert rows that all name the same columns in one statement; the ``returning`` columns of each, in no
    promised order."""
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        return connection.execute(insert(table).returning(*(table.c[name] for name in returning)), rows).all()
    columns = tuple(rows[0])
    statement = _from_arrays(table, columns, returning)
    return connection.execute(statement, {name: [row[name] for row in rows] for name in columns}).all()


@lru_cache(maxsize=32)
def _from_arrays(table: Table, columns: tuple[str, ...], returning: tuple[str, ...]) -> Insert:
    # each array is cast to its column's type, so an all-NULL column (no authorization on any row) still has one
    arrays = func.unnest(*(cast(bindparam(name), ARRAY(table.c[name].type)) for name in columns))
    source = arrays.table_valued(*columns).render_derived()
    return insert(table).from_select(list(columns), select(*source.c)).returning(
        *(table.c[name] for name in returning))
