"""People and service accounts who use tmsops. Users are deactivated, never deleted."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class Role(enum.StrEnum):
    technician = "technician"
    psychiatrist = "psychiatrist"
    admin = "admin"
    agent = "agent"  # a chair agent's service account: reports device events, nothing clinical


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    username: str = Field(max_length=80, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = utc_field()
