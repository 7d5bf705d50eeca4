"""Treatment chairs and the stimulators (devices) at them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class Device(SQLModel, table=True):
    """A stimulator with its coil. Models are the device_adapters model names (e.g. magstim-rapid2)."""

    __table_args__ = (UniqueConstraint("clinic_id", "serial"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    model: str = Field(max_length=40)
    serial: str = Field(max_length=60)
    firmware: str | None = Field(default=None, max_length=20)
    coil_model: str = Field(max_length=60)
    coil_serial: str | None = Field(default=None, max_length=60)
    active: bool = True
    created_at: datetime = utc_field()


class Chair(SQLModel, table=True):
    """A treatment chair. ``mode`` is how its agent works: record (device console) or control (agent drives)."""

    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    name: str = Field(max_length=60)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    mode: str = Field(default="control", max_length=10)
    active: bool = True
    created_at: datetime = utc_field()
