"""Adverse events with the parameters in force at the time, and the reporting tasks serious ones open."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from service.core.columns import UtcDateTime, json_field, utc_field


def optional_utc_field() -> Any:
    """A nullable UTC timestamp that defaults to None (``utc_field`` has no default)."""
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class AdverseEvent(SQLModel, table=True):
    """One event. Severity (CTCAE grade) and seriousness are separate fields.

    See docs/clinical-rules.md#severity-and-seriousness.
    """

    __tablename__ = "adverse_event"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)  # the session's booking
    term: str = Field(max_length=40)
    description: str | None = Field(default=None, max_length=2000)
    grade: int
    seriousness_criteria: list[Any] = json_field(nullable=False)  # as reported
    serious: bool
    serious_criteria: list[Any] = json_field(nullable=False)  # as classified (reported + implied by grade/term)
    expected: bool
    relatedness: str | None = Field(default=None, max_length=20)
    action: str | None = Field(default=None, max_length=30)
    outcome: str | None = Field(default=None, max_length=30)
    onset_at: datetime = utc_field()
    aware_on: date
    reasons: list[Any] = json_field(nullable=False)
    # Snapshot of the parameters in force (taken from the stored course and MT; the session fills the rest).
    motor_threshold_id: int | None = Field(default=None, foreign_key="motor_threshold.id")
    mt_pct_mso: float | None = None
    intensity_pct_mt: float | None = None
    output_pct_mso: float | None = None
    coil: str | None = Field(default=None, max_length=60)
    site: str | None = Field(default=None, max_length=60)
    session_number: int | None = None
    status: str = Field(default="open", max_length=20, index=True)  # open | cleared (serious ones block while open)
    cleared_by: int | None = Field(default=None, foreign_key="app_user.id")
    cleared_at: datetime | None = optional_utc_field()
    clearance_note: str | None = Field(default=None, max_length=2000)
    reported_by: int = Field(foreign_key="app_user.id")
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class ReportingTask(SQLModel, table=True):
    """The MDR obligation a serious event opens (21 CFR 803.30: user facility, 10 work days from awareness)."""

    __tablename__ = "ae_reporting_task"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    adverse_event_id: int = Field(foreign_key="adverse_event.id", index=True)
    facility_type: str = Field(max_length=30)
    event: str = Field(max_length=20)
    mandatory: bool
    form: str = Field(max_length=60)
    recipients: list[Any] = json_field(nullable=False)
    work_days: int | None = None
    due_on: date | None = None
    reasons: list[Any] = json_field(nullable=False)
    status: str = Field(default="open", max_length=20, index=True)
    completed_by: int | None = Field(default=None, foreign_key="app_user.id")
    completed_at: datetime | None = optional_utc_field()
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = utc_field()
