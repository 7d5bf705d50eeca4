"""Weekly reviews and end-of-course summaries: written and amended by psychiatrists, signed separately."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.audit import service as audit
from service.auth.principal import Principal
from service.core.errors import NotFound, Unprocessable
from service.models.assessments import Assessment
from service.models.bookings import Booking
from service.models.courses import Course
from service.models.signatures import CourseReview, ReviewKind
from service.signatures import repository
from service.signatures import service as signatures
from service.signatures.schemas import ReviewAmend, ReviewCreate, ReviewPublic

ENTITY = "course_review"


def course_or_404(session: Session, clinic_id: int, course_id: int) -> Course:
    course = session.exec(select(Course).where(Course.id == course_id, Course.clinic_id == clinic_id)).first()
    if course is None:
        raise NotFound(f"course {course_id} not found")
    return course


def facts(session: Session, course: Course) -> dict[str, Any]:
    """What the reviewer sees at writing time (sessions by status, latest scores), frozen into the signed record."""
    rows = session.exec(select(Booking.status, func.count()).where(Booking.course_id == course.id)
                        .group_by(Booking.status)).all()
    scores = session.exec(select(Assessment).where(Assessment.course_id == course.id)
                          .order_by(col(Assessment.administered_at), col(Assessment.id))).all()
    latest = {a.instrument: {"assessment_id": a.id, "total": a.total, "baseline_total": a.baseline_total,
                             "response": a.response, "remission": a.remission} for a in scores}
    return {"course_status": course.status, "sessions_by_status": {status: int(n) for status, n in rows},
            "latest_scores": latest}


def create(session: Session, who: Principal, course_id: int, body: ReviewCreate, now: datetime) -> CourseReview:
    """Write a weekly review or end-of-course summary for a course of the caller's clinic."""
    course = course_or_404(session, who.clinic_id, course_id)
    week = body.week if body.kind == ReviewKind.weekly else None
    review = CourseReview(
        clinic_id=who.clinic_id, patient_id=course.patient_id, course_id=course.id or 0, kind=body.kind.value,
        week=week, note=body.note, plan=body.plan, facts=facts(session, course), written_by=who.user_id,
        created_at=now, updated_at=now,
    )
    session.add(review)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity=ENTITY, entity_id=review.id,
                 patient_id=review.patient_id, new=review.model_dump(exclude={"created_at", "updated_at"}))
    return review


def get_or_404(session: Session, who: Principal, review_id: int) -> CourseReview:
    review = repository.review(session, who.clinic_id, review_id)
    if review is None:
        raise NotFound(f"course review {review_id} not found")
    return review


def read(session: Session, who: Principal, review_id: int, now: datetime) -> CourseReview:
    """One review of the caller's clinic; the read is audited."""
    review = get_or_404(session, who, review_id)
    audit.record(session, who.actor, at=now, action="read", entity=ENTITY, entity_id=review.id,
                 patient_id=review.patient_id)
    return review


def amend(session: Session, who: Principal, review_id: int, body: ReviewAmend, now: datetime) -> CourseReview:
    """A new version of the review; signatures on the old version are marked superseded, old text audited."""
    review = get_or_404(session, who, review_id)
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    old = {k: getattr(review, k) for k in changes if getattr(review, k) != changes[k]}
    if not old:
        raise Unprocessable("body", "the amendment changes nothing: every value equals the current one")
    for name in old:
        setattr(review, name, changes[name])
    review.version += 1
    review.updated_at = now
    session.add(review)
    session.flush()
    audit.record(session, who.actor, at=now, action="amend", entity=ENTITY, entity_id=review.id,
                 patient_id=review.patient_id, old=old, new={k: changes[k] for k in old} | {"version": review.version},
                 reason=body.reason)
    signatures.supersede(session, who, ENTITY, review.id or 0, review.version, body.reason, now)
    return review


def public(session: Session, review: CourseReview) -> ReviewPublic:
    """The review with every signature on it, each checked against this version."""
    sigs = signatures.of_record(session, review.clinic_id, ENTITY, review)
    return ReviewPublic(**review.model_dump(exclude={"clinic_id"}), signatures=sigs)


def of_course(session: Session, who: Principal, course_id: int, now: datetime) -> list[ReviewPublic]:
    """A course's reviews, oldest first (the read is audited)."""
    course = course_or_404(session, who.clinic_id, course_id)
    rows = repository.reviews_of_course(session, who.clinic_id, course_id)
    audit.record(session, who.actor, at=now, action="list", entity=ENTITY, patient_id=course.patient_id,
                 new={"course_id": course_id, "returned": [r.id for r in rows]})
    return [public(session, r) for r in rows]
