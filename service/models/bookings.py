"""Bookings: one course session holding a chair, its device, a technician and the patient over [start, end).

No two holding bookings of one resource overlap. PostgreSQL enforces it with exclusion constraints
(migration 0004); SQLite with the overlap check inside the serialized (BEGIN IMMEDIATE) transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class BookingStatus(enum.StrEnum):
    booked = "booked"
    checked_in = "checked_in"
    in_progress = "in_progress"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"
    interrupted = "interrupted"
    aborted = "aborted"


# Statuses that free the slot: everything else holds its resources (a delivered session used the chair).
RELEASED = (BookingStatus.cancelled.value, BookingStatus.no_show.value)
# Statuses of a delivered session: pulses were given, so it uses one authorization unit, bills its CPT code, and
# counts towards MT freshness and the course (docs/billing.md: an interrupted session counts once, resumed or not).
DELIVERED = (BookingStatus.completed.value, BookingStatus.interrupted.value)
# Statuses still ahead of delivery: they reserve an authorization unit.
PENDING = (BookingStatus.booked.value, BookingStatus.checked_in.value, BookingStatus.in_progress.value)
# The resources a booking holds; each has an exclusion constraint ``ex_booking_<name>`` on PostgreSQL.
RESOURCES = ("chair", "device", "technician", "patient")


class Booking(SQLModel, table=True):
    __table_args__ = (Index("ix_booking_clinic_id_start_at", "clinic_id", "start_at"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    course_id: int = Field(foreign_key="course.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    chair_id: int = Field(foreign_key="chair.id", index=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    technician_id: int = Field(foreign_key="app_user.id", index=True)
    authorization_id: int | None = Field(default=None, foreign_key="payer_authorization.id", index=True)
    start_at: datetime = utc_field()
    end_at: datetime = utc_field()
    status: str = Field(default=BookingStatus.booked.value, max_length=20)
    status_reason: str | None = Field(default=None, max_length=1000)
    phase_name: str = Field(max_length=40)
    phase_kind: str = Field(max_length=20)
    sequence: int  # session n of the course
    version: int = 1
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
