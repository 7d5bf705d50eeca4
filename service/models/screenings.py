"""A course's safety screens (a new screen supersedes, never overwrites) and clearances of relative findings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class Screening(SQLModel, table=True):
    """One completed questionnaire for one course; ``status`` is refreshed when a clearance is recorded."""

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    questionnaire_version: str = Field(max_length=40)
    answers: dict[str, Any] = json_field(nullable=False)
    completed_on: date
    status: str = Field(max_length=30)
    screened_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class ScreeningClearance(SQLModel, table=True):
    """A psychiatrist's recorded clearance of one relative finding, with the reason (Rossi 2011)."""

    __tablename__ = "screening_clearance"
    __table_args__ = (UniqueConstraint("screening_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    screening_id: int = Field(foreign_key="screening.id", index=True)
    item_id: str = Field(max_length=60)
    reason: str = Field(max_length=2000)
    cleared_by: int = Field(foreign_key="app_user.id")
    cleared_by_name: str = Field(max_length=200)
    cleared_at: datetime = utc_field()


class ScreeningCheck(SQLModel, table=True):
    """A clinician's checked answer to an item answered "unsure" (implant card, operative or radiology report).

    Until it is recorded the unsure answer counts as a yes; it is recorded once and never overwritten.
    """

    __tablename__ = "screening_check"
    __table_args__ = (UniqueConstraint("screening_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    screening_id: int = Field(foreign_key="screening.id", index=True)
    item_id: str = Field(max_length=60)
    answer: str = Field(max_length=10)
    how_checked: str = Field(max_length=2000)
    checked_by: int = Field(foreign_key="app_user.id")
    checked_by_name: str = Field(max_length=200)
    checked_at: datetime = utc_field()
