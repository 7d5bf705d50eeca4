"""Column helpers shared by the models (times are stored in UTC, timezone-aware on PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware UTC timestamp column."""
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def json_field(*, nullable: bool = True) -> Any:
    """A JSON column (JSON on SQLite, json on PostgreSQL)."""
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


def text_field(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Text, nullable=nullable))
