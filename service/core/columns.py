"""Column helpers shared by the models (times are stored in UTC, timezone-aware on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

from service.core.clock import as_utc


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is UTC and timezone-aware on the way in and out, on every database.

    SQLite keeps no offset: it stored an aware time's wall clock and read back a naive datetime, which the
    API then sent without an offset (not an RFC 3339 date-time, and unlike PostgreSQL's answer).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware UTC timestamp column."""
    return Field(sa_column=Column(UtcDateTime(), nullable=nullable, index=index))


def json_field(*, nullable: bool = True) -> Any:
    """A JSON column (JSON on SQLite, json on PostgreSQL)."""
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


def text_field(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Text, nullable=nullable))
