"""A course of TMS treatment ordered by a psychiatrist for one patient (docs/clinical-rules.md#course-structure)."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class CourseKind(enum.StrEnum):
    initial = "initial"
    retreatment = "retreatment"


class CourseStatus(enum.StrEnum):
    planned = "planned"  # ordered, not yet treating
    active = "active"
    on_hold = "on_hold"  # e.g. after a serious adverse event, pending review
    completed = "completed"
    discontinued = "discontinued"


class PhaseKind(enum.StrEnum):
    acute = "acute"
    extension = "extension"
    taper = "taper"
    continuation = "continuation"
    retreatment = "retreatment"


class Course(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    protocol_id: str = Field(max_length=60)  # config/clinical/protocols.json id
    template_id: str = Field(max_length=60)  # config/course_templates.json id
    kind: str = Field(default=CourseKind.initial.value, max_length=20)
    status: str = Field(default=CourseStatus.planned.value, max_length=20)
    target: str = Field(default="left DLPFC", max_length=60)
    placement_method: str = Field(default="beam_f3", max_length=30)
    intensity_pct_mt: float
    ordered_by: int = Field(foreign_key="app_user.id")
    ordered_at: datetime = utc_field()
    start_date: date | None = None
    end_date: date | None = None
    # The patient's preferred local time window for sessions (None = any time the clinic is open).
    window_start: time | None = None
    window_end: time | None = None
    status_reason: str | None = Field(default=None, max_length=1000)
    # Eligibility at ordering: the payer criteria set it was judged by and the decision then; a course ordered
    # when that decision was not "eligible" carries a psychiatrist's documented exception (basis, reason, who, when).
    criteria_set_id: str | None = Field(default=None, max_length=60)
    eligibility_status: str | None = Field(default=None, max_length=20)
    eligibility_exception: str | None = Field(default=None, max_length=30)
    eligibility_exception_reason: str | None = Field(default=None, max_length=2000)
    eligibility_exception_by: int | None = Field(default=None, foreign_key="app_user.id")
    eligibility_exception_by_name: str | None = Field(default=None, max_length=200)
    eligibility_exception_at: datetime | None = utc_field(nullable=True)
    # The patient's signed override the course was ordered with (a dose outside the safety table).
    dose_override_id: int | None = Field(default=None, foreign_key="protocol_override.id")
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class CoursePhase(SQLModel, table=True):
    """One phase of a course with its planned and payer-authorized session counts.

    ``rhythm`` is a copy of the template's rhythm, so a later edit of the template file never changes
    how an ordered course is planned.
    """

    __tablename__ = "course_phase"
    __table_args__ = (UniqueConstraint("course_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    position: int
    name: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    planned_sessions: int
    authorized_sessions: int | None = None
    rhythm: dict[str, Any] | None = json_field(nullable=False)
    # A phase the Medicare-style extension replaced (the taper it moves to the end) stays, marked, never deleted.
    replaced_at: datetime | None = utc_field(nullable=True)
    replaced_reason: str | None = Field(default=None, max_length=1000)
