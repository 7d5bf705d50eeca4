"""Shapes for sessions, the agent's batches, heartbeats and commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from device_adapters.events import WireKind
from service.adverse_events.schemas import Code


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device: str = Field(min_length=1, max_length=60)
    device_session: str = Field(min_length=1, max_length=80)
    seq: int = Field(ge=1, le=2_000_000_000)
    session_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    kind: WireKind
    at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)


MAX_EVENTS_PER_BATCH = 1000


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chair_id: int = Field(ge=1, le=2_147_483_647)
    connected: bool
    model: str | None = Field(default=None, max_length=40)
    serial: str | None = Field(default=None, max_length=60)
    firmware: str | None = Field(default=None, max_length=20)
    coil: str | None = Field(default=None, max_length=60)
    coil_temp_c: float | None = Field(default=None, ge=-40, le=150)
    state: str | None = Field(default=None, max_length=20)
    active_session_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    outbox_unsent: int = Field(default=0, ge=0)
    detail: str | None = Field(default=None, max_length=300)


class CommandOut(BaseModel):
    id: int
    kind: str
    session_id: int
    payload: dict[str, Any] | None


class TrainOut(BaseModel):
    run: str
    train: int
    planned_pulses: int | None
    delivered_pulses: int
    completed: bool
    estimated: bool
    started_at: datetime | None
    ended_at: datetime | None


class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, str] = Field(description="Pre-session checklist item id → answer")
    coil_position: dict[str, Any] | None = Field(
        default=None, description="Method (beam_f3, 5.5cm, neuronavigation) and coordinates with their frame")


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    override_reason: str | None = Field(
        default=None, min_length=10, max_length=500,
        description="Psychiatrists only: why this booking is checked in off its day or out of sequence")


class AcknowledgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=60, description="Checklist item answered 'yes' that needs review")
    note: str = Field(min_length=5, max_length=1000, description="What the clinician reviewed and decided")


class StopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="stopped from the chair page", min_length=3, max_length=300)


class SessionPublic(BaseModel):
    """The session record: prescription, dose, what the device delivered, and who was there."""

    id: int
    patient_id: int
    course_id: int
    booking_id: int
    chair_id: int
    device_id: int | None
    status: str
    mode: str
    session_number: int | None
    protocol_id: str | None
    frequency_hz: float | None
    burst_pulses: int | None
    burst_ipi_ms: float | None
    pulses_per_train: int | None
    trains_planned: int | None
    iti_s: float | None
    intensity_pct_mt: float | None
    mt_determination_id: int | None
    mt_pct_mso: float | None
    output_pct_mso: int | None
    dose_reasons: list[str] | None
    device_model: str | None
    device_serial: str | None
    device_firmware: str | None
    coil_model: str | None
    coil_serial: str | None
    coil_position: dict[str, Any] | None
    programmed: dict[str, Any] | None
    pulses_planned: int | None
    pulses_delivered: int
    pulse_counts: dict[str, Any] = Field(
        default_factory=dict, description="The unit's count, the recorded count, the estimate, and which is trusted")
    check_in_override: dict[str, Any] | None = None
    trains_delivered: int
    live_pulses: int
    current_train: int | None
    max_coil_temp_c: float | None
    interruptions: list[dict[str, Any]] | None
    checklist: dict[str, Any] | None
    technician_id: int | None
    psychiatrist_id: int | None
    cpt_code: str | None
    checked_in_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    runs: int
    trains: list[TrainOut] = Field(default_factory=list)
    dose_override_id: int | None = None
    dose_override: dict[str, Any] | None = Field(
        default=None, description="The signed override the dose outside the safety table was given under")


class ChairStatusPublic(BaseModel):
    chair_id: int
    seen_at: datetime
    connected: bool
    model: str | None
    serial: str | None
    firmware: str | None
    coil: str | None
    coil_temp_c: float | None
    state: str | None
    active_session_id: int | None
    outbox_unsent: int
    detail: str | None
    lost: bool = Field(default=False, description="No heartbeat for TMS_AGENT_LOST_AFTER_S: the agent is gone")


class SessionAdverseEventIn(BaseModel):
    """An adverse event during this session: the course, booking and parameter snapshot come from the session."""

    model_config = ConfigDict(extra="forbid")

    # The same field types as AdverseEventCreate, which the route builds from this: a value this shape took
    # and that one refused escaped as a ValidationError (a 500).
    term: Code = Field(description="GET /api/v1/adverse-event-vocabulary")
    grade: int = Field(description="CTCAE grade 1–5")
    seriousness_criteria: list[Code] = Field(default_factory=list, max_length=10)
    relatedness: Code | None = None
    action: Code | None = None
    outcome: Code | None = None
    description: str | None = Field(default=None, max_length=2000)
    onset_at: AwareDatetime | None = Field(default=None, description="Defaults to now; with a UTC offset")
