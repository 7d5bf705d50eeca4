"""Builders for planning tests: a Massachusetts clinic, chairs, technicians, requests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from config.course_templates import get_course_template
from schedules.calendar import ClinicCalendar, weekday_hours
from schedules.plan import AuthorizationLimit, PlannedSession, PlanRequest, TimeWindow
from schedules.resources import ChairResource, HeldBooking, Resources, TechnicianResource, weekly_shifts

TZ = "America/New_York"
# Frozen "today" for most tests: a Monday well before the holiday season.
TODAY = date(2025, 11, 10)


def clinic(subdivision: str | None = "MA", **kwargs: object) -> ClinicCalendar:
    """A Mon-Fri 08:00-18:00 clinic in Boston observing US + Massachusetts holidays."""
    return ClinicCalendar(TZ, weekday_hours(time(8), time(18)), "US", subdivision, **kwargs)  # type: ignore[arg-type]


def chairs(count: int, protocols: frozenset[str] = frozenset({"10hz", "itbs", "h1"})) -> tuple[ChairResource, ...]:
    """``count`` chairs c0.., each with its own device d0.."""
    return tuple(ChairResource(f"c{n}", f"d{n}", protocols) for n in range(count))


def technicians(count: int, start: time = time(8), end: time = time(18)) -> tuple[TechnicianResource, ...]:
    """``count`` technicians t0.. on Mon-Fri shifts."""
    return tuple(TechnicianResource(f"t{n}", weekly_shifts(start, end)) for n in range(count))


def resources(n_chairs: int = 2, n_techs: int = 2) -> Resources:
    """A small clinic."""
    return Resources(chairs(n_chairs), technicians(n_techs))


def request(
    template: str = "standard-36",
    start: date = date(2025, 11, 17),
    *,
    protocol: str = "10hz",
    minutes: int = 37,
    buffer: int = 8,
    window: TimeWindow | None = TimeWindow(time(8), time(18)),
    authorization: AuthorizationLimit | None = None,
    patient: str = "p1",
    course: str = "course-1",
    improvement: float | None = None,
) -> PlanRequest:
    """A plan request from a catalog template."""
    phases = get_course_template(template).phases_for(improvement)
    return PlanRequest(course, patient, protocol, phases, start, minutes, buffer, window, authorization)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def booking(start: datetime, minutes: int, **resources_held: str) -> HeldBooking:
    """A booking of ``minutes`` from ``start`` holding the named resources (chair_id=..., ...)."""
    return HeldBooking(start, start + timedelta(minutes=minutes), **resources_held)  # type: ignore[arg-type]


def as_bookings(sessions: tuple[PlannedSession, ...], patient: str) -> list[HeldBooking]:
    """Planned sessions as bookings (to plan another course around them)."""
    return [
        HeldBooking(s.start, s.end, s.chair_id, s.device_id, s.technician_id, patient, f"{patient}#{s.index}")
        for s in sessions
    ]
