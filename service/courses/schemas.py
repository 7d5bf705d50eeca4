"""Request and response shapes for courses. Unknown fields are refused (no mass assignment)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.core.amend import Unchanged
from service.core.local_time import LocalTime
from service.models.courses import CourseKind, CourseStatus

Placement = Literal["beam_f3", "eeg_f3", "5cm_rule", "5.5cm_rule", "neuronavigation", "fmri_guided", "h1_helmet"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhaseAuthorization(_Strict):
    """How many sessions of a template phase the payer authorized."""

    name: str = Field(max_length=40, description="Phase name from the template, e.g. acute or taper")
    authorized_sessions: int = Field(ge=0, le=500)


class _Window(_Strict):
    window_start: LocalTime | None = Field(default=None, description="Preferred local start of the session window")
    window_end: LocalTime | None = Field(default=None, description="Preferred local end of the session window")

    @model_validator(mode="after")
    def _window_is_ordered(self) -> _Window:
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("window_start and window_end go together: give both or neither")
        if self.window_start is not None and self.window_end is not None and self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


class EligibilityException(_Strict):
    """Why the psychiatrist orders a course for a patient not ``eligible`` under the course's criteria set."""

    basis: Literal["self_pay", "clinical_judgement", "payer_exception", "other"] = Field(
        description="self_pay: no payer criteria apply; clinical_judgement: the psychiatrist's decision;"
                    " payer_exception: the payer agreed in writing; other: say what in the reason")
    reason: str = Field(min_length=10, max_length=2000, description="The documented reason, in the psychiatrist's"
                        " words")


class CourseCreate(_Window):
    patient_id: int = Field(ge=1, le=2_147_483_647)
    protocol_id: str = Field(max_length=60, description="Protocol catalog id, e.g. hf10_3000_iti26")
    template_id: str | None = Field(default=None, max_length=60,
                                    description="Course template id; defaults to the protocol's template")
    kind: CourseKind = CourseKind.initial
    target: str = Field(default="left DLPFC", min_length=1, max_length=60)
    placement_method: Placement = "beam_f3"
    intensity_pct_mt: float = Field(ge=50, le=150, description="Intensity as % of resting motor threshold")
    start_date: date | None = Field(default=None, description="Wanted first session day (local date)")
    phases: list[PhaseAuthorization] = Field(default_factory=list, max_length=10)
    criteria_set_id: str | None = Field(default=None, max_length=60,
                                        description="Payer criteria set the patient's eligibility is judged by")
    eligibility_exception: EligibilityException | None = Field(
        default=None, description="Required when the patient is not eligible under criteria_set_id (or none is given)")
    override_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647,
        description="A psychiatrist's signed override for this patient of exactly the prescribed parameters, "
                    "when the dose lies outside the safety table")


class CourseAmend(_Window):
    """An amendment: only the fields that change, and why."""

    reason: str = Field(min_length=5, max_length=1000)
    target: str = Unchanged(min_length=1, max_length=60)
    placement_method: Placement = Unchanged()
    intensity_pct_mt: float = Unchanged(ge=50, le=150)
    start_date: date | None = None
    phases: list[PhaseAuthorization] | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _something_changes(self) -> CourseAmend:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("an amendment must change at least one field besides 'reason'")
        return self


class StatusChange(_Strict):
    status: CourseStatus
    reason: str = Field(min_length=5, max_length=1000)


class PhasePublic(BaseModel):
    position: int
    name: str
    kind: str
    planned_sessions: int
    authorized_sessions: int | None


class ReplacedPhasePublic(PhasePublic):
    replaced_at: datetime
    replaced_reason: str | None


class CoursePublic(BaseModel):
    id: int
    clinic_id: int
    patient_id: int
    protocol_id: str
    template_id: str
    kind: str
    status: str
    status_reason: str | None
    target: str
    placement_method: str
    intensity_pct_mt: float
    ordered_by: int
    ordered_at: datetime
    start_date: date | None
    end_date: date | None
    window_start: LocalTime | None
    window_end: LocalTime | None
    version: int
    phases: list[PhasePublic]
    replaced_phases: list[ReplacedPhasePublic] = Field(
        default_factory=list, description="Phases an extension replaced (kept as history, not planned)")
    planned_sessions: int
    sessions: dict[str, int] = Field(description="Bookings of this course by status")
    criteria_set_id: str | None = None
    eligibility_status: str | None = Field(default=None, description="The decision under criteria_set_id at ordering")
    eligibility_exception: str | None = Field(default=None, description="Basis of the psychiatrist's exception")
    eligibility_exception_reason: str | None = None
    eligibility_exception_by: int | None = None
    eligibility_exception_by_name: str | None = None
    eligibility_exception_at: datetime | None = None
    dose_override_id: int | None = None
    dose_check: dict[str, Any] | None = Field(
        default=None, description="The prescription against the safety table, with the signed override that "
                                  "accepts it when it lies outside (None: outside the table, unsigned)")
