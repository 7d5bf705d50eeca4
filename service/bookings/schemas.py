"""Shapes for bookings, planning results and the chair's day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from service.authorizations.schemas import AuthorizationBrief
from service.courses.schemas import PhaseAuthorization


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookingCreate(_Strict):
    """Book one session of a course on a chair with a technician; the end follows from the protocol."""

    course_id: int = Field(ge=1, le=2_147_483_647)
    chair_id: int = Field(ge=1, le=2_147_483_647)
    technician_id: int = Field(ge=1, le=2_147_483_647)
    start_at: AwareDatetime = Field(description="Start instant with its UTC offset")
    sequence: int | None = Field(default=None, ge=1, le=500, description="Session n of the course (default: next)")


class StatusUpdate(_Strict):
    """What the front desk may record: arrival, a no-show, a cancellation (sessions record the rest)."""

    status: Literal["checked_in", "no_show", "cancelled"]
    reason: str | None = Field(default=None, min_length=3, max_length=1000,
                               description="Required for no_show and cancelled")


class BookingPublic(BaseModel):
    id: int
    course_id: int
    patient_id: int
    chair_id: int
    device_id: int
    technician_id: int
    start_at: datetime
    end_at: datetime
    status: str
    status_reason: str | None
    phase_name: str
    phase_kind: str
    sequence: int
    version: int
    authorization: AuthorizationBrief | None = Field(description="The authorization this session draws on")


class StatusResult(BaseModel):
    booking: BookingPublic
    flags: list[str] = Field(description="What the change raised for review (missed session, gap)")


class PlanBody(_Strict):
    start_date: date | None = Field(default=None, description="First wanted day (default: course start or today)")
    dry_run: bool = Field(default=False, description="Plan only; book nothing")


class ReplanBody(_Strict):
    dry_run: bool = Field(default=False, description="Show the new plan and its warnings; change nothing")


class ExtensionBody(_Strict):
    """Extend a course under its template's rule (e.g. Medicare: >=25% PHQ-9 improvement at about session 20)."""

    reason: str = Field(min_length=5, max_length=1000)
    dry_run: bool = Field(default=False, description="Show the extension's plan; change nothing")
    phases: list[PhaseAuthorization] = Field(default_factory=list, max_length=10,
                                             description="Authorized sessions of the extension's phases")


class ExtensionEvaluation(BaseModel):
    """Whether the course's extension rule applies now, and every reason it does not."""

    course_id: int
    template_id: str
    min_improvement_pct: float
    evaluate_at_session: int
    tolerance_sessions: int
    assessment_id: int | None = Field(description="The PHQ-9 the rule reads: the course's latest scored one")
    administered_at: datetime | None
    at_session: int | None = Field(description="Sessions delivered when that PHQ-9 was taken")
    improvement_pct: float | None = Field(description="Improvement from the course baseline (positive = better)")
    replaces: list[str] = Field(description="Phases the extension replaces")
    adds: list[str] = Field(description="Phases the extension adds")
    applies: bool
    reasons: list[str] = Field(description="Why it does not apply (empty when it does)")


class UnplacedPublic(BaseModel):
    sequence: int
    phase: str
    wanted_date: date
    reasons: list[str]


class PlanOutcome(BaseModel):
    """Every requested session accounted for: booked (or, on a dry run, proposed), or unplaced with reasons."""

    course_id: int
    dry_run: bool
    booked: list[BookingPublic]
    proposed: list[BookingPublic] = Field(description="Dry run: sessions that would be booked (id 0)")
    unplaced: list[UnplacedPublic]
    cancelled: list[int] = Field(description="Bookings released because their session moved")
    warnings: list[str]
    authorization: AuthorizationBrief | None


class ScheduleEntry(BaseModel):
    booking_id: int
    start_at: datetime
    end_at: datetime
    status: str
    patient_id: int
    patient_name: str
    mrn: str
    course_id: int
    protocol_id: str
    session: str = Field(description="Session n of N, e.g. '12 of 36'")
    sequence: int
    planned_sessions: int
    phase_name: str
    technician_id: int
    device_id: int
    authorization: AuthorizationBrief | None


class ChairDay(BaseModel):
    chair_id: int
    chair_name: str
    date: date
    timezone: str
    entries: list[ScheduleEntry]


class ExtensionOutcome(BaseModel):
    evaluation: ExtensionEvaluation
    plan: PlanOutcome
