"""The scheduler's tables: job-run claims and APScheduler's own job store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class JobRun(SQLModel, table=True):
    """A claim on one occurrence of a job: a second scheduler cannot run it again.

    See docs/records-and-signatures.md#scheduled-jobs-run-once.
    """

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
