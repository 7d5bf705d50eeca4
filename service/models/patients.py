"""Patients of a clinic. Never deleted; amended with a reason, each amendment audited."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class Patient(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("clinic_id", "mrn"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    mrn: str = Field(max_length=40)
    family_name: str = Field(max_length=100)
    given_name: str = Field(max_length=100)
    date_of_birth: date
    sex: str = Field(max_length=10)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=400)
    primary_diagnosis: str = Field(max_length=10)  # ICD-10-CM code, e.g. F33.2
    referring_clinician: str | None = Field(default=None, max_length=200)
    payer: str | None = Field(default=None, max_length=100)
    payer_member_id: str | None = Field(default=None, max_length=60)
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
