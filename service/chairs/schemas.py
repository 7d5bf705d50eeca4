"""Shapes for chairs and devices: reading them (staff), managing them (admins), and the capability table."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.core.amend import Unchanged

Mode = Literal["record", "control"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceCreate(_Strict):
    model: str = Field(max_length=40, description="Device model, e.g. magstim-rapid2 (see /api/v1/devices/models)")
    serial: str = Field(min_length=1, max_length=60)
    firmware: str | None = Field(default=None, max_length=20)
    coil_model: str = Field(min_length=1, max_length=60)
    coil_serial: str | None = Field(default=None, max_length=60)


class DeviceAmend(_Strict):
    reason: str = Field(min_length=5, max_length=1000)
    firmware: str | None = Field(default=None, max_length=20)
    coil_model: str = Unchanged(min_length=1, max_length=60)
    coil_serial: str | None = Field(default=None, max_length=60)
    active: bool = Unchanged()

    @model_validator(mode="after")
    def _something_changes(self) -> DeviceAmend:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("an amendment must change at least one field besides 'reason'")
        return self


class DevicePublic(BaseModel):
    id: int
    model: str
    serial: str
    firmware: str | None
    coil_model: str
    coil_serial: str | None
    active: bool


class DeviceDetail(DevicePublic):
    created_at: datetime
    protocols: list[str] = Field(description="Catalog protocols this device's model can run")


class ModelPublic(BaseModel):
    model: str
    protocols: list[str]
    cannot_run: dict[str, str] = Field(description="Protocol id -> why this model cannot run it")


class ChairCreate(_Strict):
    name: str = Field(min_length=1, max_length=60)
    device_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    mode: Mode = "control"


class ChairAmend(_Strict):
    reason: str = Field(min_length=5, max_length=1000)
    name: str = Unchanged(min_length=1, max_length=60)
    device_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    mode: Mode = Unchanged()
    active: bool = Unchanged()

    @model_validator(mode="after")
    def _something_changes(self) -> ChairAmend:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("an amendment must change at least one field besides 'reason'")
        return self


class ChairDetail(BaseModel):
    id: int
    name: str
    mode: str
    active: bool
    device_id: int | None
    protocols: list[str]


class ChairPublic(BaseModel):
    id: int
    name: str
    mode: str
    active: bool
    device: DevicePublic | None
    protocols: list[str] = []  # what the chair can deliver: its device, programmed in the chair's mode
