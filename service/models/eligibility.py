"""What the clinic has assessed for eligibility beyond the history tables: exclusions, ECT, evaluation, documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class EligibilityProfile(SQLModel, table=True):
    """One per patient; amended (with a reason), never deleted."""

    __tablename__ = "eligibility_profile"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", unique=True)
    episode: int = 1
    # Exclusion key → present (True) or assessed absent (False); a key left out is "not assessed".
    conditions: dict[str, Any] = json_field(nullable=False)
    ect_status: str | None = Field(default=None, max_length=20)
    psychiatrist_evaluation: bool | None = None
    psychiatrist_evaluated_on: date | None = None
    documented: list[Any] = json_field(nullable=False)
    prior_response_sustained_days: int | None = None
    relapse_documented: bool | None = None
    updated_by: int = Field(foreign_key="app_user.id")
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
