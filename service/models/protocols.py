"""A psychiatrist's signed override of a custom protocol outside the safety table (21 CFR 11.50-style signature)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class ProtocolOverride(SQLModel, table=True):
    """Signed approval of exactly these parameters (``parameters_sha256``); any change needs a new signature."""

    __tablename__ = "protocol_override"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True)
    parameters: dict[str, Any] = json_field(nullable=False)
    parameters_sha256: str = Field(max_length=64, index=True)
    violations: list[Any] = json_field(nullable=False)
    reason: str = Field(max_length=2000)
    meaning: str = Field(default="approved", max_length=20)
    signed_by: int = Field(foreign_key="app_user.id")
    printed_name: str = Field(max_length=200)
    signed_at: datetime = utc_field()
