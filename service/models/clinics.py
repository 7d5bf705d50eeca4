"""A clinic is the tenant: every patient, chair, device and user belongs to exactly one."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class Clinic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    timezone: str = Field(default="America/New_York", max_length=64)
    country: str = Field(default="US", max_length=2)
    subdivision: str | None = Field(default=None, max_length=10)
    created_at: datetime = utc_field()
