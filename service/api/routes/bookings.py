"""Booking endpoints: book a session, plan and book a whole course, re-plan missed sessions, record
arrivals, no-shows and cancellations, and the chair's day. There is no delete."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import Id, NowDep, PsychiatristUser, SessionDep, StaffUser
from service.bookings import extension, planning, service
from service.bookings.schemas import (
    BookingCreate,
    BookingPublic,
    ChairDay,
    ExtensionBody,
    ExtensionEvaluation,
    ExtensionOutcome,
    PlanBody,
    PlanOutcome,
    ReplanBody,
    StatusResult,
    StatusUpdate,
)
from service.models.bookings import BookingStatus

router = APIRouter(prefix="/api/v1", tags=["bookings"])


@router.post("/bookings", status_code=201, response_model=BookingPublic)
def book_session(body: BookingCreate, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """Book one session of a course (409 names a double booking, a closed day, a missing shift or authorization)."""
    return service.public(session, service.book(session, who, body, now))


@router.get("/bookings", response_model=list[BookingPublic])
def list_bookings(
    who: StaffUser, session: SessionDep, now: NowDep,
    day: Annotated[date | None, Query(alias="date", description="Local date (default: from now on)")] = None,
    status: BookingStatus | None = None,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> object:
    """Bookings of a date, of a course, or the next ones from now."""
    return [service.public(session, b) for b in service.listing(session, who, day, status, course_id, now)]


@router.get("/bookings/{booking_id}", response_model=BookingPublic)
def get_booking(booking_id: Id, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """One booking with the authorization it draws on."""
    return service.public(session, service.read(session, who, booking_id, now))


@router.post("/bookings/{booking_id}/status", response_model=StatusResult)
def set_booking_status(booking_id: Id, body: StatusUpdate, who: StaffUser, session: SessionDep,
                       now: NowDep) -> object:
    """Record an arrival, a no-show or a cancellation (with a reason); a missed session is flagged for review."""
    booking, flags = planning.record_status(session, who, booking_id, BookingStatus(body.status), body.reason, now)
    return {"booking": service.public(session, booking), "flags": flags}


@router.post("/courses/{course_id}/plan", response_model=PlanOutcome)
def plan_course(course_id: Id, body: PlanBody, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """Plan and book every session of a course; sessions that do not fit come back with the reasons."""
    out = planning.plan_and_book(session, who, course_id, body.start_date, body.dry_run, now)
    return planning.outcome_public(session, service.open_course(session, who, course_id), body.dry_run, out, now)


@router.post("/courses/{course_id}/replan", response_model=PlanOutcome)
def replan_course(course_id: Id, body: ReplanBody, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """Re-plan missed sessions at the end of their phase; warns when the authorization would be crossed."""
    out = planning.replan(session, who, course_id, body.dry_run, now)
    return planning.outcome_public(session, service.open_course(session, who, course_id), body.dry_run, out, now)


@router.get("/courses/{course_id}/extension", response_model=ExtensionEvaluation)
def evaluate_extension(course_id: Id, who: StaffUser, session: SessionDep) -> object:
    """Whether the course's extension rule (e.g. >=25% PHQ-9 improvement at about session 20) applies now."""
    return extension.evaluate(session, who, course_id).public()


@router.post("/courses/{course_id}/extension", response_model=ExtensionOutcome)
def extend_course(course_id: Id, body: ExtensionBody, who: PsychiatristUser, session: SessionDep,
                  now: NowDep) -> object:
    """Extend the course: its taper is replaced by the extension's phases, which are planned and booked."""
    ev, out = extension.extend(session, who, course_id, body, now)
    return {"evaluation": ev.public(),
            "plan": planning.outcome_public(session, ev.course, body.dry_run, out, now)}


@router.get("/chairs/{chair_id}/schedule", response_model=ChairDay)
def chair_schedule(
    chair_id: Id, who: StaffUser, session: SessionDep, now: NowDep,
    day: Annotated[date, Query(alias="date", description="Local date, YYYY-MM-DD")],
) -> object:
    """A chair's day: each booking with patient, course, session n of N and authorization remaining."""
    return service.chair_day(session, who, chair_id, day, now)
