"""Course endpoints: order, read, list, amend, change status. There is no delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import Id, NowDep, PsychiatristUser, SessionDep, StaffUser
from service.courses import eligibility_gate, service
from service.courses.schemas import CourseAmend, CourseCreate, CoursePublic, EligibilityException, StatusChange
from service.models.courses import CourseStatus

router = APIRouter(prefix="/api/v1/courses", tags=["courses"])


@router.post("", status_code=201, response_model=CoursePublic)
def order_course(body: CourseCreate, who: PsychiatristUser, session: SessionDep, now: NowDep) -> object:
    """Order a course of TMS for a patient (psychiatrists only)."""
    return service.public(session, service.order(session, who, body, now))


@router.get("", response_model=list[CoursePublic])
def list_courses(
    who: StaffUser, session: SessionDep, now: NowDep,
    patient_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    status: CourseStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> object:
    """Your clinic's courses, newest first (optionally one patient's, or one status)."""
    rows = service.listing(session, who, now, patient_id=patient_id, status=status, limit=limit, offset=offset)
    return [service.public(session, c) for c in rows]


@router.get("/{course_id}", response_model=CoursePublic)
def get_course(course_id: Id, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """One course with its phases and its sessions by status (the read is audited)."""
    return service.public(session, service.read(session, who, course_id, now))


@router.patch("/{course_id}", response_model=CoursePublic)
def amend_course(course_id: Id, body: CourseAmend, who: PsychiatristUser, session: SessionDep,
                 now: NowDep) -> object:
    """Amend a course's prescription, window, start date or authorized counts, with a reason."""
    return service.public(session, service.amend(session, who, course_id, body, now))


@router.post("/{course_id}/status", response_model=CoursePublic)
def change_status(course_id: Id, body: StatusChange, who: PsychiatristUser, session: SessionDep,
                  now: NowDep) -> object:
    """Start, hold, complete or discontinue a course, with a reason (future bookings of an ended course are
    cancelled)."""
    return service.public(session, service.change_status(session, who, course_id, body.status, body.reason, now))


@router.post("/{course_id}/eligibility-exception", response_model=CoursePublic)
def document_eligibility_exception(course_id: Id, body: EligibilityException, who: PsychiatristUser,
                                   session: SessionDep, now: NowDep) -> object:
    """The psychiatrist documents why a course with no eligibility on record is treated (basis and reason)."""
    course = service.get_or_404(session, who, course_id)
    return service.public(session, eligibility_gate.record_exception(session, who, course, body, now))
