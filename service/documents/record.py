"""One course with everything recorded about it, gathered once for the course page and every document.

Every query is scoped to the caller's clinic; another clinic's course is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.audit import service as audit
from service.auth.principal import Principal
from service.authorizations import service as authorizations
from service.core.errors import NotFound
from service.models.adverse_events import AdverseEvent
from service.models.assessments import Assessment
from service.models.authorizations import Authorization
from service.models.bookings import Booking
from service.models.clinics import Clinic
from service.models.courses import Course, CoursePhase
from service.models.eligibility import EligibilityProfile
from service.models.medications import MedicationTrial, PsychotherapyTrial
from service.models.motor_thresholds import MotorThreshold
from service.models.patients import Patient
from service.models.screenings import Screening
from service.models.sessions import TreatmentSession
from service.models.signatures import CourseReview
from service.models.users import User
from service.rules import protocols
from service.screenings import service as screenings
from service.signatures import reviews
from service.signatures.schemas import ReviewPublic


@dataclass
class CourseRecord:
    clinic: Clinic
    patient: Patient
    course: Course
    protocol: Any  # config protocol definition, or None for an id the catalog no longer has
    psychiatrist: User | None
    phases: list[CoursePhase]
    bookings: list[Booking]
    sessions: dict[int, TreatmentSession]  # by booking id
    assessments: list[Assessment]
    motor_thresholds: list[MotorThreshold]
    adverse_events: list[AdverseEvent]
    authorizations: list[dict[str, Any]]  # each with its unit usage
    screenings: list[dict[str, Any]]  # each with verdict and clearances
    medication_trials: list[MedicationTrial]
    psychotherapy_trials: list[PsychotherapyTrial]
    eligibility: EligibilityProfile | None
    reviews: list[ReviewPublic] = field(default_factory=list)
    users: dict[int, User] = field(default_factory=dict)

    @property
    def planned_sessions(self) -> int:
        return sum(p.planned_sessions for p in self.phases)

    def delivered(self) -> list[TreatmentSession]:
        """Sessions with pulses delivered (completed or interrupted), in order."""
        rows = [s for s in self.sessions.values() if s.status in ("completed", "interrupted")]
        return sorted(rows, key=lambda s: (s.started_at or s.checked_in_at, s.id or 0))

    def user_name(self, user_id: int | None) -> str:
        user = self.users.get(user_id or 0)
        return user.display_name if user else "—"


def _rows(session: Session, model: Any, *where: Any, order: Any) -> list[Any]:
    return list(session.exec(select(model).where(*where).order_by(order, col(model.id))).all())


def _course(session: Session, clinic_id: int, course_id: int) -> Course:
    course = session.exec(select(Course).where(Course.id == course_id, Course.clinic_id == clinic_id)).first()
    if course is None:
        raise NotFound(f"course {course_id} not found")
    return course


def _protocol(protocol_id: str) -> Any:
    try:
        return protocols.get(protocol_id)
    except Exception:  # noqa: BLE001 - an unknown id shows as "not in the catalog", never a 500
        return None


def load(session: Session, clinic_id: int, course_id: int) -> CourseRecord:
    """Everything about one course of this clinic (no audit row: callers audit their own purpose)."""
    course = _course(session, clinic_id, course_id)
    pid, cid = course.patient_id, course.id
    patient = session.get(Patient, pid)
    clinic = session.get(Clinic, clinic_id)
    assert patient is not None and clinic is not None  # foreign keys
    bookings = _rows(session, Booking, Booking.course_id == cid, order=col(Booking.sequence))
    sessions = _rows(session, TreatmentSession, TreatmentSession.course_id == cid, order=col(TreatmentSession.id))
    auths = _rows(session, Authorization, Authorization.course_id == cid, order=col(Authorization.start_date))
    screens = _rows(session, Screening, Screening.course_id == cid, order=col(Screening.completed_on))
    record = CourseRecord(
        clinic=clinic, patient=patient, course=course, protocol=_protocol(course.protocol_id),
        psychiatrist=session.get(User, course.ordered_by),
        phases=_rows(session, CoursePhase, CoursePhase.course_id == cid, col(CoursePhase.replaced_at).is_(None),
                     order=col(CoursePhase.position)),
        bookings=bookings, sessions={s.booking_id: s for s in sessions},
        assessments=_rows(session, Assessment, Assessment.course_id == cid, order=col(Assessment.administered_at)),
        motor_thresholds=_rows(session, MotorThreshold, MotorThreshold.patient_id == pid,
                               MotorThreshold.clinic_id == clinic_id, order=col(MotorThreshold.determined_at)),
        adverse_events=_rows(session, AdverseEvent, AdverseEvent.course_id == cid, order=col(AdverseEvent.onset_at)),
        authorizations=[authorizations.public(session, a) for a in auths],
        screenings=[screenings.public(session, s) for s in screens],
        medication_trials=_rows(session, MedicationTrial, MedicationTrial.patient_id == pid,
                                ~col(MedicationTrial.entered_in_error), order=col(MedicationTrial.start_date)),
        psychotherapy_trials=_rows(session, PsychotherapyTrial, PsychotherapyTrial.patient_id == pid,
                                   ~col(PsychotherapyTrial.entered_in_error), order=col(PsychotherapyTrial.start_date)),
        eligibility=session.exec(select(EligibilityProfile).where(EligibilityProfile.patient_id == pid)).first(),
        reviews=[reviews.public(session, r) for r in _rows(session, CourseReview, CourseReview.course_id == cid,
                                                           order=col(CourseReview.created_at))],
    )
    record.users = _users(session, clinic_id)
    return record


def _users(session: Session, clinic_id: int) -> dict[int, User]:
    return {u.id or 0: u for u in session.exec(select(User).where(User.clinic_id == clinic_id)).all()}


def read(session: Session, who: Principal, course_id: int, now: datetime, *, purpose: str) -> CourseRecord:
    """The course record for a page or document; the read and its purpose go to the audit trail."""
    record = load(session, who.clinic_id, course_id)
    audit.record(session, who.actor, at=now, action=purpose, entity="course", entity_id=course_id,
                 patient_id=record.patient.id)
    return record
