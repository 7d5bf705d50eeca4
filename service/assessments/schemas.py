"""Request and response shapes for assessments and suicide-risk alerts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.core.stamp import NowOr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssessmentCreate(_Strict):
    instrument: str = Field(min_length=1, max_length=20, description="PHQ-9, HAM-D17, MADRS, QIDS-SR16 or GAD-7")
    administered_at: NowOr
    items: list[Annotated[int, Field(ge=-1000, le=1000)] | None] = Field(
        max_length=40, description="Item scores in questionnaire order (optional unscored items may be null)"
    )
    course_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class AlertStatus(enum.StrEnum):
    open = "open"
    responded = "responded"


class AlertResponse(_Strict):
    note: str = Field(min_length=5, max_length=2000, description="The psychiatrist's assessment and plan")


class AlertPublic(BaseModel):
    id: int
    patient_id: int
    assessment_id: int
    instrument: str
    item_number: int
    value: int
    threshold: int
    message: str
    raised_at: datetime
    status: str
    response_note: str | None
    responded_by: int | None
    responded_at: datetime | None


class ItemCodePublic(BaseModel):
    number: int
    value: int
    loinc: str | None
    answer_code: str | None


class AssessmentPublic(BaseModel):
    id: int
    patient_id: int
    course_id: int | None
    instrument: str
    definition_version: str
    administered_at: datetime
    items: list[int | None]
    total: int
    max_total: int
    severity: str
    baseline_assessment_id: int | None
    baseline_total: int | None
    percent_change: float | None
    response: bool | None
    remission: bool | None
    total_code: str | None
    panel_code: str | None
    item_codes: list[ItemCodePublic]
    domain_scores: list[tuple[str, int]]
    reasons: list[str]
    alerts: list[AlertPublic]
    entered_by: int
    created_at: datetime
