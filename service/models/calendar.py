"""The clinic's scheduling set-up: opening hours and settings, closures, technician shifts."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class ClinicSchedule(SQLModel, table=True):
    """One row per clinic. ``hours`` maps weekday ("0" = Monday) to ["HH:MM", "HH:MM"] local opening hours."""

    __tablename__ = "clinic_schedule"

    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    hours: dict[str, Any] | None = json_field(nullable=False)
    setup_buffer_minutes: int = 10
    slot_step_minutes: int = 5
    # Gap review and MT staleness thresholds, configurable (docs/clinical-rules.md#missed-sessions-and-gaps).
    gap_review_business_days: int = 3
    mt_stale_calendar_days: int = 7
    open_on_holidays: list[str] | None = json_field(nullable=True)
    version: int = 1
    updated_at: datetime = utc_field()


class ClinicClosure(SQLModel, table=True):
    """A local date the clinic is closed (besides public holidays); withdrawn, never deleted."""

    __tablename__ = "clinic_closure"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    day: date
    reason: str = Field(max_length=200)
    withdrawn_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()


class TechnicianShift(SQLModel, table=True):
    """A weekly shift piece of a technician: local [start, end) on a weekday (0 = Monday)."""

    __tablename__ = "technician_shift"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    weekday: int
    start: time
    end: time


class TechnicianDayOff(SQLModel, table=True):
    """A local date a technician does not work (leave, sickness, training); withdrawn, never deleted."""

    __tablename__ = "technician_day_off"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    day: date
    reason: str = Field(max_length=200)
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field()
    withdrawn_at: datetime | None = utc_field(nullable=True)
