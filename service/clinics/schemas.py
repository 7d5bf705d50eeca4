"""Shapes for clinics."""

from __future__ import annotations

from pydantic import BaseModel


class ClinicPublic(BaseModel):
    id: int
    name: str
    timezone: str
    country: str
    subdivision: str | None
