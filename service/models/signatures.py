"""Signatures bound to one exact version of a record, and the course reviews psychiatrists sign.

A signature keeps the canonical JSON it signed and its SHA-256, so the link to the record is technical
(Part 11 §11.70): a record changed without a new version no longer matches, and the old text stays
readable after an amendment supersedes it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from service.core.columns import json_field, text_field, utc_field


class Meaning(enum.StrEnum):
    reviewed = "reviewed"
    approved = "approved"
    cleared = "cleared"


class SignatureStatus(enum.StrEnum):
    valid = "valid"
    superseded = "superseded"  # the record was amended after signing; the signature stands for the old version


class Signature(SQLModel, table=True):
    __tablename__ = "e_signature"
    __table_args__ = (Index("ix_e_signature_subject", "clinic_id", "subject", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    subject: str = Field(max_length=40)  # what kind of record: course_review, screening_clearance, ...
    subject_id: int
    subject_version: int
    meaning: str = Field(max_length=20)
    signer_id: int = Field(foreign_key="app_user.id")
    printed_name: str = Field(max_length=200)
    signed_at: datetime = utc_field()
    record_sha256: str = Field(max_length=64)
    record_json: str = text_field(nullable=False)
    status: str = Field(default=SignatureStatus.valid.value, max_length=20)
    superseded_at: datetime | None = utc_field(nullable=True)
    superseded_by_version: int | None = None
    superseded_reason: str | None = Field(default=None, max_length=1000)


class ReviewKind(enum.StrEnum):
    weekly = "weekly"
    end_of_course = "end_of_course"


class CourseReview(SQLModel, table=True):
    """A psychiatrist's weekly review or end-of-course summary of a course; amended in place, version up."""

    __tablename__ = "course_review"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    kind: str = Field(max_length=20)
    week: int | None = None  # the course week a weekly review covers
    note: str = Field(max_length=8000)
    plan: str | None = Field(default=None, max_length=4000)
    # The numbers the reviewer saw (sessions, latest scores), frozen so the signature covers them too.
    facts: dict[str, Any] | None = json_field()
    written_by: int = Field(foreign_key="app_user.id")
    version: int = 1
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
