"""The clinic's own day and the patient's course: clinical dates are the clinic's local dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from service.core.errors import NotFound, Unprocessable
from service.models.clinics import Clinic
from service.models.courses import Course


def clinic(session: Session, clinic_id: int) -> Clinic:
    """The clinic row (it always exists for a signed-in caller)."""
    found = session.get(Clinic, clinic_id)
    if found is None:
        raise NotFound(f"clinic {clinic_id} not found")
    return found


def local_now(session: Session, clinic_id: int, now: datetime) -> datetime:
    """``now`` in the clinic's time zone: calendar dates of clinical records are the clinic's dates."""
    return now.astimezone(ZoneInfo(clinic(session, clinic_id).timezone))


def clinic_today(session: Session, clinic_id: int, now: datetime) -> date:
    """Today's date in the clinic's time zone."""
    return local_now(session, clinic_id, now).date()


def course_for_patient(
    session: Session, clinic_id: int, patient_id: int, course_id: int, *, field: str | None = "course_id"
) -> Course:
    """The patient's course; a body field naming another patient's course is a 422, a path id a 404."""
    course = session.exec(
        select(Course).where(Course.id == course_id, Course.clinic_id == clinic_id, Course.patient_id == patient_id)
    ).first()
    if course is None:
        if field is None:
            raise NotFound(f"course {course_id} not found")
        raise Unprocessable(field, f"course {course_id} is not a course of this patient")
    return course
