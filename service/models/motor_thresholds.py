"""Motor-threshold determinations: each is a new row; the latest one is the one in force.

See docs/clinical-rules.md#mt-determination-record.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class MotorThreshold(SQLModel, table=True):
    __tablename__ = "motor_threshold"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True)
    determined_at: datetime = utc_field()
    method: str = Field(max_length=30)
    muscle: str = Field(max_length=20)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    coil: str | None = Field(default=None, max_length=60)
    value_pct_mso: float
    pulses_used: int | None = None
    d_m1_mm: float | None = None
    d_target_mm: float | None = None
    adjusted_pct_mso: float | None = None  # depth-adjusted (Stokes 2005) when both distances are given
    hotspot: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=1000)
    operator_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field()
