"""``blockers_for``: gather every fact the gates read from the database and ask the rules what blocks treatment."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from service.adverse_events import repository as adverse_events
from service.assessments import service as assessments
from service.auth.principal import Principal
from service.blockers import booking_facts
from service.blockers.booking_facts import SchedulingFacts
from service.core import validation
from service.core.clock import as_utc
from service.core.errors import Unprocessable
from service.courses import eligibility_gate
from service.medications import service as medications
from service.models.chairs import Device
from service.models.courses import Course
from service.models.patients import Patient
from service.motor_thresholds import service as motor_thresholds
from service.patients import service as patients
from service.records import amendments, clinic_day
from service.rules import gates
from service.rules.gates import Blocker, OpenAdverseEvent, OpenSuicideAlert, ScreeningFacts, TreatmentFacts
from service.screenings import repository as screenings
from service.screenings import service as screening_service

__all__ = ["Blocker", "SchedulingFacts", "blockers_for", "for_patient"]
ENDED = ("completed", "discontinued")


def _screening(session: Session, course: Course) -> ScreeningFacts:
    """The course's newest screen; failing that the patient's newest of an earlier course (stale: per course)."""
    row = screenings.latest_for_course(session, course.clinic_id, course.id or 0)
    row = row or screenings.latest_for_patient(session, course.clinic_id, course.patient_id)
    changes = medications.changes_for_rules(session, course.clinic_id, course.patient_id)
    return ScreeningFacts(
        result=screening_service.evaluate(session, row) if row else None,
        completed_on=row.completed_on if row else None,
        for_current_course=row is None or row.course_id == course.id,
        medication_change_dates=tuple(c.changed_on for c in changes),
        is_retreatment=course.kind == "retreatment",
    )


def _events(session: Session, course: Course, tz: ZoneInfo) -> tuple[OpenAdverseEvent, ...]:
    rows = adverse_events.for_patient(session, course.clinic_id, course.patient_id, course.id)
    return tuple(OpenAdverseEvent(str(e.id), e.term, e.serious, as_utc(e.onset_at).astimezone(tz).date(),
                                  cleared=e.status == "cleared") for e in rows)


def _alerts(session: Session, course: Course, tz: ZoneInfo) -> tuple[OpenSuicideAlert, ...]:
    rows = assessments.open_alerts(session, course.clinic_id, course.patient_id)
    return tuple(OpenSuicideAlert(str(a.id), a.instrument, a.item_number, a.value,
                                  as_utc(a.raised_at).astimezone(tz).date()) for a in rows)


def blockers_for(
    session: Session, clinic_id: int, patient_id: int, course_id: int, today: date,
    checklist_answers: Mapping[str, str] | None = None, *,
    now: datetime | None = None, scheduling_facts: SchedulingFacts | None = None,
    checklist_acknowledged: Collection[str] = (), device: Device | None = None,
) -> list[Blocker]:
    """Everything that blocks treatment of this patient's course today, most serious first (empty: go).

    ``now`` (for the session-spacing rules) defaults to the wall clock; ``scheduling_facts`` default to what
    the booking and authorization tables say. ``checklist_answers`` None means the checklist is not done yet;
    ``checklist_acknowledged`` names the answers a clinician has acknowledged with a note.
    ``device`` (at a chair): the motor threshold is the one determined on that stimulator and coil.
    """
    course = clinic_day.course_for_patient(session, clinic_id, patient_id, course_id, field=None)
    patient = session.get(Patient, patient_id)
    tz = ZoneInfo(clinic_day.clinic(session, clinic_id).timezone)
    local_now = as_utc(now or datetime.now(UTC)).astimezone(tz)
    sched = scheduling_facts or booking_facts.read(session, course, today, tz)
    mt = motor_thresholds.facts(session, clinic_id, patient_id, device=device)
    missing = None
    if device is not None and mt.determined_on is None:
        missing = f"{device.model} serial {device.serial} with coil {device.coil_model}"
    facts = TreatmentFacts(
        today=today, now=local_now, course_status=course.status, screening=_screening(session, course),
        eligibility_documented=eligibility_gate.documented(course),
        motor_threshold=mt, protocol_id=course.protocol_id,
        previous_session_starts=tuple(s for s in sched.previous_session_starts if s <= local_now),
        checklist_answers=checklist_answers, checklist_acknowledged=frozenset(checklist_acknowledged),
        adverse_events=_events(session, course, tz),
        suicide_alerts=_alerts(session, course, tz), authorization=sched.authorization,
        # Self-pay patients (no payer on file) need no payer authorization.
        authorization_required=bool(patient and patient.payer), mt_missing_for_device=missing,
    )
    with validation.field_errors():
        return gates.treatment_blockers(facts)


def default_course(session: Session, clinic_id: int, patient_id: int) -> Course:
    """The patient's newest course that has not ended (422 naming course_id if there is none)."""
    course = session.exec(select(Course).where(
        Course.clinic_id == clinic_id, Course.patient_id == patient_id, col(Course.status).not_in(ENDED),
    ).order_by(col(Course.ordered_at).desc(), col(Course.id).desc())).first()
    if course is None:
        raise Unprocessable("course_id", "the patient has no open course: give course_id")
    return course


def for_patient(
    session: Session, who: Principal, patient_id: int, course_id: int | None, now: datetime
) -> dict[str, object]:
    """The blockers endpoint's answer; the read is audited."""
    patients.get_or_404(session, who, patient_id)
    if course_id is None:
        course_id = default_course(session, who.clinic_id, patient_id).id or 0
    today = clinic_day.clinic_today(session, who.clinic_id, now)
    found = blockers_for(session, who.clinic_id, patient_id, course_id, today, now=now)
    amendments.read_audit(session, who, entity="blockers", entity_id=course_id, patient_id=patient_id, now=now,
                       detail={"codes": [b.code for b in found]})
    return {"patient_id": patient_id, "course_id": course_id, "today": today, "blocked": bool(found),
            "blockers": [{"code": b.code, "message": b.message, "details": dict(b.details)} for b in found]}
