"""What background jobs and rules found for a person to look at: the review flags of the review queue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class FlagKind(enum.StrEnum):
    missed_session = "missed_session"
    gap = "gap"
    phq9_due = "phq9_due"
    mt_due = "mt_due"
    authorization_low = "authorization_low"
    authorization_crossed = "authorization_crossed"
    sae_report_due = "sae_report_due"
    technician_off = "technician_off"  # a booking whose technician is off and no colleague could take it
    dose_override = "dose_override"  # a course doses outside the safety table under a signed override
    pulses_estimated = "pulses_estimated"  # a session's count holds an estimate (a train outlived its agent)
    session_lost = "session_lost"  # a live session ended because its chair's agent stopped reporting
    capability = "capability"  # a booking its chair can no longer deliver (mode or device changed)
    check_in_override = "check_in_override"  # a check-in out of day or sequence, on a psychiatrist's reason


class ReviewFlag(SQLModel, table=True):
    """One finding. ``key`` is deterministic per finding, so a job that runs twice records it once."""

    __tablename__ = "review_flag"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    key: str = Field(max_length=120)
    kind: str = Field(max_length=30)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    due_at: datetime | None = utc_field(nullable=True)
    message: str = Field(max_length=1000)
    created_at: datetime = utc_field()
    resolved_at: datetime | None = utc_field(nullable=True)
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")
    resolution: str | None = Field(default=None, max_length=1000)
