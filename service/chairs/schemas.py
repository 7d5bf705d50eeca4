"""Shapes for chairs and devices."""

from __future__ import annotations

from pydantic import BaseModel


class DevicePublic(BaseModel):
    id: int
    model: str
    serial: str
    firmware: str | None
    coil_model: str
    coil_serial: str | None
    active: bool


class ChairPublic(BaseModel):
    id: int
    name: str
    mode: str
    active: bool
    device: DevicePublic | None
    protocols: list[str] = []  # what the chair can deliver: its device, programmed in the chair's mode
