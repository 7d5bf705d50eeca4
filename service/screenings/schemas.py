"""Request and response shapes for safety screenings and clearances."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScreeningCreate(_Strict):
    course_id: int = Field(ge=1, le=2_147_483_647)
    answers: dict[str, str] = Field(max_length=200, description="Item id → yes / no / unsure")
    questionnaire_version: str | None = Field(default=None, max_length=40, description="Must be the current version")
    completed_on: dt.date | None = Field(default=None, description="Defaults to today (clinic calendar)")


class ClearanceCreate(_Strict):
    item_id: str = Field(min_length=1, max_length=60)
    reason: str = Field(min_length=5, max_length=2000, description="Why treatment is acceptable despite the finding")


class CheckCreate(_Strict):
    item_id: str = Field(min_length=1, max_length=60)
    answer: Literal["yes", "no"] = Field(description="The answer once checked")
    how_checked: str = Field(min_length=5, max_length=2000,
                             description="What the answer was checked against, e.g. implant card, radiology report")


class FindingPublic(BaseModel):
    item_id: str
    text: str
    answer: str
    category: str
    cleared: bool
    source: str
    unsure: bool = False


class ClearancePublic(BaseModel):
    id: int
    screening_id: int
    item_id: str
    reason: str
    cleared_by: int
    cleared_by_name: str
    cleared_at: dt.datetime


class CheckPublic(BaseModel):
    id: int
    screening_id: int
    item_id: str
    answer: str
    how_checked: str
    checked_by: int
    checked_by_name: str
    checked_at: dt.datetime


class ScreeningPublic(BaseModel):
    id: int
    patient_id: int
    course_id: int
    questionnaire_version: str
    answers: dict[str, str]
    completed_on: dt.date
    status: str
    screened_by: int
    created_at: dt.datetime
    absolute: list[FindingPublic]
    relative: list[FindingPublic]
    missing_items: list[str]
    reasons: list[str]
    current: bool
    currency_reasons: list[str]
    clearances: list[ClearancePublic]
    checks: list[CheckPublic]
