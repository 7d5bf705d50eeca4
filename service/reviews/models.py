"""What background jobs and rules found for a person to look at (the review queue), and job-run claims."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode, UniqueConstraint
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


class JobRun(SQLModel, table=True):
    """A claim on one occurrence of a job (reliability.md B5 #3): a second scheduler cannot run it again."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job_id", "scheduled_for"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=191)
    scheduled_for: datetime = utc_field()
    runner: str = Field(max_length=120)
    started_at: datetime = utc_field()
    finished_at: datetime | None = utc_field(nullable=True)
    found: int | None = None
    error: str | None = Field(default=None, max_length=1000)


# APScheduler's own job table, declared here with APScheduler 3's exact shape so the migrations own it
# (the job store's create-if-missing then finds it) and autogenerate does not propose dropping it.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
