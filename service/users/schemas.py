"""Shapes for user accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.core.amend import Unchanged
from service.models.users import Role

Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,79}$")]

MIN_PASSWORD = 12


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=MIN_PASSWORD, max_length=256)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=5, max_length=1000)
    display_name: str = Unchanged(min_length=1, max_length=200)
    role: Role = Unchanged()
    active: bool = Unchanged()


class UserPublic(BaseModel):
    id: int
    clinic_id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
