"""A treatment session as delivered: the record, its trains, the raw device events, chair commands and status.

The raw ``delivery_event`` rows are the evidence (append-only, unique per ``(device, device_session,
seq)``); the session and train rows are derived from them as they arrive.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class SessionStatus(enum.StrEnum):
    checked_in = "checked_in"
    ready_to_start = "ready_to_start"  # checklist done
    programming = "programming"  # start accepted, command sent to the chair agent
    ready = "ready"  # device programmed and read back
    delivering = "delivering"
    completed = "completed"
    interrupted = "interrupted"  # ended early; may be resumed with the remaining trains
    aborted = "aborted"  # ended before delivery (mismatch, device error, refused)


ENDED = {SessionStatus.completed, SessionStatus.interrupted, SessionStatus.aborted}
LIVE = {SessionStatus.programming, SessionStatus.ready, SessionStatus.delivering}


class TreatmentSession(SQLModel, table=True):
    __tablename__ = "treatment_session"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", unique=True)
    chair_id: int = Field(foreign_key="chair.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    status: str = Field(default=SessionStatus.checked_in.value, max_length=20)
    mode: str = Field(default="control", max_length=10)
    session_number: int | None = None

    # Prescription and dose (snapshotted at start; the source records stay linked).
    protocol_id: str | None = Field(default=None, max_length=60)
    frequency_hz: float | None = None
    burst_pulses: int | None = None
    burst_ipi_ms: float | None = None
    pulses_per_train: int | None = None
    trains_planned: int | None = None
    iti_s: float | None = None
    intensity_pct_mt: float | None = None
    mt_determination_id: int | None = None
    mt_pct_mso: float | None = None
    output_pct_mso: int | None = None
    dose_reasons: list[str] | None = json_field()
    dose_override_id: int | None = Field(default=None, foreign_key="protocol_override.id")  # signed, outside the table

    # What the device reported.
    device_model: str | None = Field(default=None, max_length=40)
    device_serial: str | None = Field(default=None, max_length=60)
    device_firmware: str | None = Field(default=None, max_length=20)
    coil_model: str | None = Field(default=None, max_length=60)
    coil_serial: str | None = Field(default=None, max_length=60)
    coil_position: dict[str, Any] | None = json_field()
    programmed: dict[str, Any] | None = json_field()
    pulses_planned: int | None = None
    pulses_delivered: int = 0  # what the record trusts: recorded + estimated + counted by the unit only
    # How that total is made up (docs/devices.md "Counting pulses"): pulses the agent recorded from the device's
    # reports, pulses estimated (flagged) where no report or counter tells, pulses only the unit's own counter
    # saw (it outlived its agent), the unit's own count for the runs where it keeps one, and which the record
    # trusts ("unit", "estimate" or "recorded").
    pulses_recorded: int = 0
    pulses_estimated: int = 0
    pulses_unit_only: int = 0
    unit_count: int | None = None
    pulses_trusted: str = Field(default="recorded", max_length=10)
    tail_pulses: int | None = None  # a resume's shortened last train, sent once its whole trains are delivered
    check_in_override: dict[str, Any] | None = json_field()  # a psychiatrist's reason to check in out of turn
    trains_delivered: int = 0
    live_pulses: int = 0  # for the progress bar: completed trains plus the current train so far
    current_train: int | None = None
    max_coil_temp_c: float | None = None
    interruptions: list[dict[str, Any]] | None = json_field()
    checklist: dict[str, Any] | None = json_field()

    technician_id: int | None = Field(default=None, foreign_key="app_user.id")
    psychiatrist_id: int | None = Field(default=None, foreign_key="app_user.id")
    cpt_code: str | None = Field(default=None, max_length=5)
    checked_in_at: datetime = utc_field()
    started_at: datetime | None = utc_field(nullable=True)
    ended_at: datetime | None = utc_field(nullable=True)
    end_reason: str | None = Field(default=None, max_length=500)
    current_run: str | None = Field(default=None, max_length=80)
    runs: int = 0
    updated_at: datetime = utc_field()


class SessionTrain(SQLModel, table=True):
    __tablename__ = "session_train"
    __table_args__ = (UniqueConstraint("session_id", "run", "train"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="treatment_session.id", index=True)
    run: str = Field(max_length=80)
    train: int
    planned_pulses: int | None = None
    delivered_pulses: int = 0
    completed: bool = False
    estimated: bool = False
    started_at: datetime | None = utc_field(nullable=True)
    ended_at: datetime | None = utc_field(nullable=True)


class DeliveryEventRow(SQLModel, table=True):
    """One event as the agent sent it; stored once per idempotency key, never changed."""

    __tablename__ = "delivery_event"
    __table_args__ = (UniqueConstraint("device", "device_session", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="treatment_session.id", index=True)
    device: str = Field(max_length=60)
    device_session: str = Field(max_length=80)
    seq: int
    kind: str = Field(max_length=30)
    at: datetime = utc_field()
    received_at: datetime = utc_field()
    payload: dict[str, Any] | None = json_field()


class ChairCommand(SQLModel, table=True):
    """Work for a chair agent. Visible to the agent only once the request that made it commits."""

    __tablename__ = "chair_command"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    chair_id: int = Field(foreign_key="chair.id", index=True)
    session_id: int = Field(foreign_key="treatment_session.id")
    kind: str = Field(max_length=20)  # deliver | stop
    payload: dict[str, Any] | None = json_field()
    status: str = Field(default="pending", max_length=10)  # pending | taken
    created_at: datetime = utc_field()
    taken_at: datetime | None = utc_field(nullable=True)


class ChairStatus(SQLModel, table=True):
    """The last heartbeat of a chair's agent."""

    __tablename__ = "chair_status"

    chair_id: int = Field(foreign_key="chair.id", primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    seen_at: datetime = utc_field()
    connected: bool = False
    model: str | None = Field(default=None, max_length=40)
    serial: str | None = Field(default=None, max_length=60)
    firmware: str | None = Field(default=None, max_length=20)
    coil: str | None = Field(default=None, max_length=60)
    coil_temp_c: float | None = None
    state: str | None = Field(default=None, max_length=20)
    active_session_id: int | None = None
    outbox_unsent: int = 0
    detail: str | None = Field(default=None, max_length=300)
