"""Request and response shapes for medication trials, psychotherapy trials and medication changes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.core.amend import Unchanged

Drug = Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True, to_lower=True)]
Reason = Annotated[str, Field(min_length=5, max_length=1000, description="Why the record is amended (required)")]
Episode = Annotated[int, Field(ge=1, le=100, description="Depressive episode number (1 = current)")]
Dose = Annotated[float, Field(gt=0, le=100_000)]
Note = Annotated[str, Field(max_length=1000)]


class TrialOutcome(enum.StrEnum):
    no_response = "no_response"
    partial_response = "partial_response"
    response = "response"
    intolerance = "intolerance"


class TherapyOutcome(enum.StrEnum):
    no_improvement = "no_improvement"
    partial = "partial"
    improved = "improved"


class ChangeKind(enum.StrEnum):
    start = "start"
    stop = "stop"
    dose_change = "dose_change"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Amend(_Strict):
    reason: Reason

    @model_validator(mode="after")
    def _something_changes(self) -> _Amend:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("an amendment must change at least one field besides 'reason'")
        return self


class MedicationTrialCreate(_Strict):
    drug: Drug
    drug_class: str | None = Field(default=None, max_length=40, description="Looked up from the drug table if omitted")
    daily_dose: Dose | None = None
    dose_unit: str | None = Field(default=None, max_length=20,
                                  description="The drug table's unit for a listed drug (another is refused); mg/day"
                                  " otherwise")
    start_date: date
    stop_date: date | None = None
    outcome: TrialOutcome | None = None
    side_effect: str | None = Field(default=None, max_length=400, description="Required for intolerance to count")
    augmentation: bool = False
    episode: Episode = 1
    notes: Note | None = None


class MedicationTrialAmend(_Amend):
    drug: Drug = Unchanged()
    drug_class: str | None = Field(default=None, max_length=40)
    daily_dose: Dose | None = None
    dose_unit: str = Unchanged(max_length=20)
    start_date: date = Unchanged()
    stop_date: date | None = None
    outcome: TrialOutcome | None = None
    side_effect: str | None = Field(default=None, max_length=400)
    augmentation: bool = Unchanged()
    episode: Episode = Unchanged()
    notes: Note | None = None
    entered_in_error: bool = Unchanged()


class TrialAssessmentPublic(BaseModel):
    role: str
    duration_days: int
    adequate_dose: bool | None
    adequate_duration: bool
    counts_as_failure: bool
    reasons: list[str]


class MedicationTrialPublic(BaseModel):
    id: int
    patient_id: int
    episode: int
    drug: str
    drug_class: str | None
    daily_dose: float | None
    dose_unit: str
    start_date: date
    stop_date: date | None
    outcome: str | None
    side_effect: str | None
    augmentation: bool
    notes: str | None
    entered_in_error: bool
    recorded_by: int
    version: int
    created_at: datetime
    updated_at: datetime
    assessment: TrialAssessmentPublic | None = None


class PsychotherapyTrialCreate(_Strict):
    modality: str = Field(min_length=1, max_length=80)
    start_date: date
    stop_date: date | None = None
    outcome: TherapyOutcome | None = None
    episode: Episode = 1
    notes: Note | None = None


class PsychotherapyTrialAmend(_Amend):
    modality: str = Unchanged(min_length=1, max_length=80)
    start_date: date = Unchanged()
    stop_date: date | None = None
    outcome: TherapyOutcome | None = None
    episode: Episode = Unchanged()
    notes: Note | None = None
    entered_in_error: bool = Unchanged()


class PsychotherapyTrialPublic(BaseModel):
    id: int
    patient_id: int
    episode: int
    modality: str
    start_date: date
    stop_date: date | None
    outcome: str | None
    notes: str | None
    entered_in_error: bool
    recorded_by: int
    version: int
    created_at: datetime
    updated_at: datetime


class MedicationChangeCreate(_Strict):
    drug: Drug
    drug_class: str | None = Field(default=None, max_length=40)
    change: ChangeKind
    changed_on: date
    new_daily_dose: Dose | None = None
    cns_active: bool | None = Field(default=None, description="Derived from the drug class; a contradicting value is"
                                     " refused")
    notes: Note | None = None


class MedicationChangeAmend(_Amend):
    drug: Drug = Unchanged()
    drug_class: str | None = Field(default=None, max_length=40)
    change: ChangeKind = Unchanged()
    changed_on: date = Unchanged()
    new_daily_dose: Dose | None = None
    cns_active: bool = Unchanged()
    notes: Note | None = None
    entered_in_error: bool = Unchanged()


class MedicationChangePublic(BaseModel):
    id: int
    patient_id: int
    drug: str
    drug_class: str | None
    change: str
    changed_on: date
    new_daily_dose: float | None
    cns_active: bool
    notes: str | None
    entered_in_error: bool
    recorded_by: int
    version: int
    created_at: datetime
    updated_at: datetime
