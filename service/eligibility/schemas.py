"""Request and response shapes for the eligibility profile and eligibility decisions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class EctStatus(enum.StrEnum):
    receiving = "receiving"
    candidate = "candidate"
    contraindicated = "contraindicated"
    declined = "declined"
    not_considered = "not_considered"


Key = Annotated[str, Field(min_length=1, max_length=60)]


class ProfileWrite(BaseModel):
    """The whole profile; replacing an existing one needs a reason (the old values go to the audit trail)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, min_length=5, max_length=1000)
    episode: int = Field(default=1, ge=1, le=100)
    conditions: dict[Key, bool] = Field(default_factory=dict, max_length=100,
                                        description="Exclusion key → present; omitted keys are 'not assessed'")
    ect_status: EctStatus | None = None
    psychiatrist_evaluation: bool | None = None
    psychiatrist_evaluated_on: dt.date | None = None
    documented: list[Key] = Field(default_factory=list, max_length=100)
    prior_response_sustained_days: int | None = Field(default=None, ge=0, le=36_500)
    relapse_documented: bool | None = None


class ProfilePublic(BaseModel):
    id: int
    patient_id: int
    episode: int
    conditions: dict[str, bool]
    ect_status: str | None
    psychiatrist_evaluation: bool | None
    psychiatrist_evaluated_on: dt.date | None
    documented: list[str]
    prior_response_sustained_days: int | None
    relapse_documented: bool | None
    updated_by: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CriterionPublic(BaseModel):
    id: str
    type: str
    status: str
    reasons: list[str]
    evidence: list[str]
    missing: list[str]


class DecisionPublic(BaseModel):
    patient_id: int
    criteria_set_id: str
    criteria_set_name: str
    criteria_version: str
    eligible: bool
    status: str
    criteria: list[CriterionPublic]
    trials: list[dict[str, object]]
    facts: dict[str, object]
