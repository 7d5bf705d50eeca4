"""Payer authorizations: a number, a date window, and units per CPT code.

See docs/clinical-rules.md#course-structure and #payer-criteria.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class Cpt(enum.StrEnum):
    """TMS CPT codes: the first session with MT determination, each later session, each MT re-determination."""

    initial = "90867"  # once per course
    session = "90868"  # per subsequent session
    mt_redetermination = "90869"  # per MT re-determination


class AuthorizationStatus(enum.StrEnum):
    active = "active"
    withdrawn = "withdrawn"  # entered in error or revoked by the payer; kept, never deleted


class Authorization(SQLModel, table=True):
    __tablename__ = "payer_authorization"  # "authorization" is reserved in PostgreSQL
    __table_args__ = (UniqueConstraint("clinic_id", "payer", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    payer: str = Field(max_length=100)
    number: str = Field(max_length=60)
    start_date: date
    end_date: date
    status: str = Field(default=AuthorizationStatus.active.value, max_length=20)
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class AuthorizationUnit(SQLModel, table=True):
    """Units authorized for one CPT code."""

    __tablename__ = "authorization_unit"
    __table_args__ = (UniqueConstraint("authorization_id", "cpt"),)

    id: int | None = Field(default=None, primary_key=True)
    authorization_id: int = Field(foreign_key="payer_authorization.id", index=True)
    cpt: str = Field(max_length=5)
    units: int
