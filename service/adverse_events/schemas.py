"""Request and response shapes for adverse events and reporting tasks."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.core.amend import Unchanged
from service.core.stamp import NowOr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Code = Annotated[str, Field(min_length=1, max_length=40)]


class AdverseEventCreate(_Strict):
    course_id: int = Field(ge=1, le=2_147_483_647)
    term: Code = Field(description="Controlled vocabulary code (GET /api/v1/adverse-event-vocabulary)")
    grade: int = Field(description="CTCAE grade 1–5")
    seriousness_criteria: list[Code] = Field(default_factory=list, max_length=10)
    relatedness: Code | None = None
    action: Code | None = None
    outcome: Code | None = None
    description: str | None = Field(default=None, max_length=2000)
    onset_at: NowOr
    aware_on: dt.date | None = Field(default=None, description="When the clinic became aware (defaults to today)")
    booking_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class AdverseEventAmend(_Strict):
    reason: str = Field(min_length=5, max_length=1000)
    grade: int | None = None
    seriousness_criteria: list[Code] = Unchanged(max_length=10)
    relatedness: Code | None = None
    action: Code | None = None
    outcome: Code | None = None
    description: str | None = Field(default=None, max_length=2000)


class ClearanceCreate(_Strict):
    note: str = Field(min_length=5, max_length=2000, description="Why further sessions are acceptable")


class TaskStatus(enum.StrEnum):
    open = "open"
    done = "done"


class TaskCompletion(_Strict):
    note: str = Field(min_length=5, max_length=2000, description="What was reported, to whom, with references")


class ReportingTaskPublic(BaseModel):
    id: int
    patient_id: int
    adverse_event_id: int
    facility_type: str
    event: str
    mandatory: bool
    form: str
    recipients: list[str]
    work_days: int | None
    due_on: dt.date | None
    reasons: list[str]
    status: str
    completed_by: int | None
    completed_at: dt.datetime | None
    note: str | None
    created_at: dt.datetime


class AdverseEventPublic(BaseModel):
    id: int
    patient_id: int
    course_id: int
    booking_id: int | None
    term: str
    description: str | None
    grade: int
    seriousness_criteria: list[str]
    serious: bool
    serious_criteria: list[str]
    expected: bool
    relatedness: str | None
    action: str | None
    outcome: str | None
    onset_at: dt.datetime
    aware_on: dt.date
    reasons: list[str]
    motor_threshold_id: int | None
    mt_pct_mso: float | None
    intensity_pct_mt: float | None
    output_pct_mso: float | None
    coil: str | None
    site: str | None
    session_number: int | None
    status: str
    blocks_course: bool
    cleared_by: int | None
    cleared_at: dt.datetime | None
    clearance_note: str | None
    reported_by: int
    version: int
    created_at: dt.datetime
    reporting_tasks: list[ReportingTaskPublic]
