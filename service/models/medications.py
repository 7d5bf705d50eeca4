"""A patient's treatment history for the current depressive episode. Never deleted; amended with a reason.

A wrong entry is voided by amending ``entered_in_error`` to true (it then counts for nothing).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class MedicationTrial(SQLModel, table=True):
    """One antidepressant or augmentation trial (docs/clinical-rules.md#medication-trials)."""

    __tablename__ = "medication_trial"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    episode: int = 1
    drug: str = Field(max_length=80)
    drug_class: str | None = Field(default=None, max_length=40)
    daily_dose: float | None = None
    dose_unit: str = Field(default="mg/day", max_length=20)
    start_date: date
    stop_date: date | None = None
    outcome: str | None = Field(default=None, max_length=20)
    side_effect: str | None = Field(default=None, max_length=400)
    augmentation: bool = False
    notes: str | None = Field(default=None, max_length=1000)
    entered_in_error: bool = False
    recorded_by: int = Field(foreign_key="app_user.id")
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class PsychotherapyTrial(SQLModel, table=True):
    """An evidence-based psychotherapy trial (CBT, IPT...) in the episode."""

    __tablename__ = "psychotherapy_trial"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    episode: int = 1
    modality: str = Field(max_length=80)
    start_date: date
    stop_date: date | None = None
    outcome: str | None = Field(default=None, max_length=20)
    notes: str | None = Field(default=None, max_length=1000)
    entered_in_error: bool = False
    recorded_by: int = Field(foreign_key="app_user.id")
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class MedicationChange(SQLModel, table=True):
    """A start, stop or dose change of a current medication: makes the screening (and, if CNS-active, the MT) stale."""

    __tablename__ = "medication_change"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    drug: str = Field(max_length=80)
    drug_class: str | None = Field(default=None, max_length=40)
    change: str = Field(max_length=20)
    changed_on: date
    new_daily_dose: float | None = None
    cns_active: bool
    notes: str | None = Field(default=None, max_length=1000)
    entered_in_error: bool = False
    recorded_by: int = Field(foreign_key="app_user.id")
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
