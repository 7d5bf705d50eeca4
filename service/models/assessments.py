"""Stored rating-scale administrations (scored at entry, with the definition version) and suicide-risk alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from service.core.columns import UtcDateTime, json_field, utc_field


def optional_utc_field() -> Any:
    """A nullable UTC timestamp that defaults to None (``utc_field`` has no default)."""
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class Assessment(SQLModel, table=True):
    """One administration of one instrument; the score is computed once and kept with its reasons."""

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True)
    instrument: str = Field(max_length=20)
    definition_version: str = Field(max_length=40)
    administered_at: datetime = utc_field()
    items: list[Any] = json_field(nullable=False)
    total: int
    max_total: int
    severity: str = Field(max_length=40)
    baseline_assessment_id: int | None = Field(default=None, foreign_key="assessment.id")
    baseline_total: int | None = None
    percent_change: float | None = None
    response: bool | None = None
    remission: bool | None = None
    item_codes: list[Any] = json_field(nullable=False)
    total_code: str | None = Field(default=None, max_length=20)
    panel_code: str | None = Field(default=None, max_length=20)
    domain_scores: list[Any] = json_field(nullable=False)
    reasons: list[Any] = json_field(nullable=False)
    entered_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field()


class SuicideAlert(SQLModel, table=True):
    """A suicide-risk item above its threshold: open until a psychiatrist records a response.

    See docs/clinical-rules.md#suicide-items.
    """

    __tablename__ = "suicide_alert"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    instrument: str = Field(max_length=20)
    item_number: int
    value: int
    threshold: int
    message: str = Field(max_length=1000)
    raised_at: datetime = utc_field()
    status: str = Field(default="open", max_length=20, index=True)
    response_note: str | None = Field(default=None, max_length=2000)
    responded_by: int | None = Field(default=None, foreign_key="app_user.id")
    responded_at: datetime | None = optional_utc_field()
