"""Shapes for the clinic calendar: opening hours, settings, closures, technician shifts."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.core.local_time import LocalTime

# Planning trusts that no booking holds its resources longer than a protocol plus this buffer.
MAX_SETUP_BUFFER_MINUTES = 120


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DayHours(_Strict):
    """Local opening hours on one weekday (0 = Monday)."""

    weekday: int = Field(ge=0, le=6)
    open: LocalTime
    close: LocalTime

    @model_validator(mode="after")
    def _opens_before_closing(self) -> DayHours:
        if self.open >= self.close:
            raise ValueError(f"weekday {self.weekday}: opens at {self.open} but closes at {self.close}")
        return self


class ScheduleUpdate(_Strict):
    """The clinic's opening hours and scheduling settings (replaces the current ones; give a reason)."""

    reason: str = Field(min_length=5, max_length=1000)
    hours: list[DayHours] = Field(max_length=7, description="Weekdays not listed are closed")
    setup_buffer_minutes: int = Field(default=10, ge=0, le=MAX_SETUP_BUFFER_MINUTES,
                                      description="Added to each protocol's duration")
    slot_step_minutes: int = Field(default=5, ge=1, le=60)
    gap_review_business_days: int = Field(default=3, ge=1, le=30)
    mt_stale_calendar_days: int = Field(default=7, ge=1, le=60)
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(default=None, max_length=10)
    open_on_holidays: list[str] = Field(default_factory=list, max_length=50,
                                        description="Public holiday names the clinic stays open on")

    @model_validator(mode="after")
    def _one_entry_per_weekday(self) -> ScheduleUpdate:
        days = [h.weekday for h in self.hours]
        if len(set(days)) != len(days):
            raise ValueError("hours: each weekday may appear once")
        return self


class SchedulePublic(BaseModel):
    clinic_id: int
    timezone: str
    country: str
    subdivision: str | None
    hours: list[DayHours]
    setup_buffer_minutes: int
    slot_step_minutes: int
    gap_review_business_days: int
    mt_stale_calendar_days: int
    open_on_holidays: list[str]
    version: int


class ClosureCreate(_Strict):
    day: date
    reason: str = Field(min_length=3, max_length=200)


class ClosureWithdraw(_Strict):
    reason: str = Field(min_length=5, max_length=1000)


class ClosurePublic(BaseModel):
    id: int
    day: date
    reason: str
    withdrawn_at: datetime | None


class DayPublic(BaseModel):
    """One local date: open (with hours) or closed with the reason."""

    day: date
    open: bool
    hours: DayHours | None
    closed_reason: str | None


class ShiftPiece(_Strict):
    weekday: int = Field(ge=0, le=6)
    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _starts_before_end(self) -> ShiftPiece:
        if self.start >= self.end:
            raise ValueError(f"weekday {self.weekday}: shift starts at {self.start} but ends at {self.end}")
        return self


class ShiftsReplace(_Strict):
    """A technician's whole weekly pattern (replaces the current one)."""

    reason: str = Field(min_length=5, max_length=1000)
    shifts: list[ShiftPiece] = Field(max_length=28)


class TechnicianShifts(BaseModel):
    user_id: int
    display_name: str
    shifts: list[ShiftPiece]


class DayOffCreate(_Strict):
    """A technician's day off (leave, sickness, training): their bookings that day move to a colleague on shift."""

    user_id: int = Field(ge=1, le=2_147_483_647)
    day: date
    reason: str = Field(min_length=3, max_length=200)


class DayOffPublic(BaseModel):
    id: int
    user_id: int
    day: date
    reason: str
    created_at: datetime
    withdrawn_at: datetime | None


class DayOffWithdraw(_Strict):
    reason: str = Field(min_length=5, max_length=1000)


class MovedBooking(BaseModel):
    booking_id: int
    start_at: datetime
    technician_id: int


class StrandedBooking(BaseModel):
    booking_id: int
    start_at: datetime
    reason: str


class DayOffOutcome(BaseModel):
    """The day off, the bookings handed to a colleague, and those left for the front desk (each flagged)."""

    day_off: DayOffPublic
    reassigned: list[MovedBooking]
    unresolved: list[StrandedBooking]
