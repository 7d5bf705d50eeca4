"""Every query for courses and their phases (scoped to a clinic)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.models.bookings import Booking
from service.models.courses import Course, CoursePhase


def get(session: Session, clinic_id: int, course_id: int) -> Course | None:
    return session.exec(select(Course).where(Course.id == course_id, Course.clinic_id == clinic_id)).first()


def phases(session: Session, course_id: int, *, include_replaced: bool = False) -> list[CoursePhase]:
    """The course's phases in order; those an extension replaced only when asked (they are history)."""
    query = select(CoursePhase).where(CoursePhase.course_id == course_id)
    if not include_replaced:
        query = query.where(col(CoursePhase.replaced_at).is_(None))
    return list(session.exec(query.order_by(col(CoursePhase.position))).all())


def planned_sessions(session: Session, course_ids: Sequence[int]) -> dict[int, int]:
    """Each course's planned sessions over its current phases, in one query (a course without phases: 0)."""
    if not course_ids:
        return {}
    rows = session.exec(
        select(CoursePhase.course_id, func.sum(CoursePhase.planned_sessions))
        .where(col(CoursePhase.course_id).in_(sorted(set(course_ids))), col(CoursePhase.replaced_at).is_(None))
        .group_by(col(CoursePhase.course_id))).all()
    return dict.fromkeys(course_ids, 0) | {course_id: int(total or 0) for course_id, total in rows}


def of_patient(session: Session, clinic_id: int, patient_id: int,
               statuses: Sequence[str] | None = None) -> list[Course]:
    query = select(Course).where(Course.clinic_id == clinic_id, Course.patient_id == patient_id)
    if statuses is not None:
        query = query.where(col(Course.status).in_(statuses))
    return list(session.exec(query.order_by(col(Course.id))).all())


def in_clinic(session: Session, clinic_id: int, *, status: str | None, limit: int, offset: int) -> list[Course]:
    query = select(Course).where(Course.clinic_id == clinic_id)
    if status is not None:
        query = query.where(Course.status == status)
    return list(session.exec(query.order_by(col(Course.id).desc()).limit(limit).offset(offset)).all())


def open_courses(session: Session, clinic_id: int | None = None) -> list[Course]:
    """Courses that are planned, active or on hold (the jobs' input)."""
    query = select(Course).where(col(Course.status).in_(("planned", "active", "on_hold")))
    if clinic_id is not None:
        query = query.where(Course.clinic_id == clinic_id)
    return list(session.exec(query.order_by(col(Course.id))).all())


def bookings_of(session: Session, course_id: int, statuses: Sequence[str] | None = None) -> list[Booking]:
    """The course's bookings in time order, optionally only those in ``statuses``."""
    query = select(Booking).where(Booking.course_id == course_id)
    if statuses is not None:
        query = query.where(col(Booking.status).in_(statuses))
    return list(session.exec(query.order_by(col(Booking.start_at), col(Booking.id))).all())


def booking_counts(session: Session, course_id: int) -> dict[str, int]:
    """How many of the course's bookings are in each status."""
    rows = session.exec(
        select(Booking.status, func.count()).where(Booking.course_id == course_id).group_by(col(Booking.status))
    ).all()
    return {status: int(n) for status, n in rows}
