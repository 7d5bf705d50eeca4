"""Eligibility as a gate on ordering: a course is ordered for a patient who is ``eligible`` under the course's
payer criteria set, or with a psychiatrist's documented exception (self-pay, clinical judgement, ...) that is
stored on the course, shown on it and printed in the prior-authorization packet
(docs/eligibility-and-checklist.md)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from config import clinical_data
from service.audit import service as audit
from service.auth.principal import Principal
from service.core import validation
from service.core.errors import Unprocessable
from service.courses.schemas import CourseCreate, EligibilityException
from service.eligibility import facts as eligibility_facts
from service.models.courses import Course
from service.models.patients import Patient
from service.records import clinic_day
from service.rules import eligibility as rules


def _decision(session: Session, patient: Patient, criteria_set_id: str, now: datetime) -> rules.EligibilityDecision:
    known = [cs.id for cs in clinical_data.payer_criteria().criteria_sets]
    if criteria_set_id not in known:
        raise Unprocessable("criteria_set_id", f"unknown criteria set {criteria_set_id!r}; known: {', '.join(known)}")
    today = clinic_day.clinic_today(session, patient.clinic_id, now)
    facts = eligibility_facts.build(session, patient, today)
    with validation.field_errors():
        return rules.evaluate(criteria_set_id, facts, today)


def _why_not(decision: rules.EligibilityDecision | None) -> str:
    if decision is None:
        return "no payer criteria set is given (criteria_set_id), so eligibility is not established"
    unmet = [c.id for c in decision.criteria if c.status not in ("met", "not_applicable")]
    return (f"the patient is {decision.status} under {decision.criteria_set_id}"
            + (f" (not met or incomplete: {', '.join(unmet)})" if unmet else ""))


def apply(session: Session, who: Principal, patient: Patient, data: CourseCreate, course: Course,
          now: datetime) -> None:
    """Judge eligibility under the course's criteria set and record it on ``course``; refuse (422 naming
    ``eligibility_exception``) when the patient is not eligible and no documented exception is given."""
    decision = _decision(session, patient, data.criteria_set_id, now) if data.criteria_set_id else None
    course.criteria_set_id = data.criteria_set_id
    course.eligibility_status = decision.status if decision else None
    exception = data.eligibility_exception
    if exception is None:
        if decision is None or not decision.eligible:
            raise Unprocessable("eligibility_exception", f"{_why_not(decision)}: ordering needs the psychiatrist's"
                                " documented reason (basis and reason), e.g. self-pay or clinical judgement")
        return
    course.eligibility_exception, course.eligibility_exception_reason = exception.basis, exception.reason
    course.eligibility_exception_by, course.eligibility_exception_by_name = who.user_id, who.display_name
    course.eligibility_exception_at = now


def documented(course: Course) -> bool:
    """Is there a record of why this course is treated: eligible at ordering, or a documented exception?"""
    return course.eligibility_status == "eligible" or course.eligibility_exception is not None


def record_exception(session: Session, who: Principal, course: Course, exception: EligibilityException,
                     now: datetime) -> Course:
    """Document the exception on a course ordered without one (ordered before eligibility gated ordering)."""
    if documented(course):
        raise validation.conflict("eligibility_exception", "the course already has its eligibility on record"
                                  f" ({course.eligibility_exception or course.eligibility_status})")
    before = {"eligibility_exception": None}
    course.eligibility_exception, course.eligibility_exception_reason = exception.basis, exception.reason
    course.eligibility_exception_by, course.eligibility_exception_by_name = who.user_id, who.display_name
    course.eligibility_exception_at, course.updated_at = now, now
    session.add(course)
    session.flush()
    audit.record(session, who.actor, at=now, action="eligibility_exception", entity="course", entity_id=course.id,
                 patient_id=course.patient_id, old=before,
                 new={"eligibility_exception": exception.basis, "reason": exception.reason})
    return course
