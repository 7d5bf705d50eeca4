"""Adverse-event rules: classified on entry, parameters snapshotted, serious ones block until cleared; audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from service.adverse_events import reporting, repository
from service.adverse_events.schemas import AdverseEventAmend, AdverseEventCreate, ClearanceCreate
from service.audit import service as audit
from service.auth.principal import Principal
from service.core import validation
from service.core.errors import NotFound, Unprocessable
from service.core.stamp import stamped
from service.models.adverse_events import AdverseEvent
from service.models.bookings import Booking
from service.models.chairs import Device
from service.models.courses import Course
from service.models.sessions import TreatmentSession
from service.motor_thresholds import repository as mt_repository
from service.patients import service as patients
from service.records import amendments, clinic_day
from service.rules import adverse_events as rules

ENTITY = "adverse_event"


def _classify(fields: dict[str, Any]) -> rules.AEClassification:
    with validation.field_errors():
        return rules.classify(
            fields["term"], fields["grade"], fields.get("seriousness_criteria") or (),
            relatedness=fields.get("relatedness"), action=fields.get("action"), outcome=fields.get("outcome"),
            description=fields.get("description"),
        )


def _classified(c: rules.AEClassification) -> dict[str, Any]:
    return {"serious": c.serious, "serious_criteria": list(c.serious_criteria), "expected": c.expected,
            "reasons": list(c.reasons)}


def _booking(session: Session, course: Course, booking_id: int | None) -> Booking | None:
    if booking_id is None:
        return None
    booking = session.get(Booking, booking_id)
    if booking is None or booking.course_id != course.id:
        raise Unprocessable("booking_id", f"booking {booking_id} is not a session of this course")
    return booking


def _snapshot(session: Session, course: Course, patient_id: int, booking: Booking | None) -> dict[str, Any]:
    """Parameters in force: the delivered session's own record when there is one, else the course's intensity
    and site with the MT in force, the session's number and coil."""
    ts = session.exec(select(TreatmentSession).where(TreatmentSession.booking_id == booking.id)).first() \
        if booking else None
    if ts is not None and ts.output_pct_mso is not None:
        return {"motor_threshold_id": ts.mt_determination_id, "mt_pct_mso": ts.mt_pct_mso,
                "intensity_pct_mt": ts.intensity_pct_mt, "output_pct_mso": float(ts.output_pct_mso),
                "coil": ts.coil_model, "site": course.target, "session_number": ts.session_number}
    mt = mt_repository.latest(session, course.clinic_id, patient_id)
    mt_value = (mt.adjusted_pct_mso or mt.value_pct_mso) if mt else None
    output = round(course.intensity_pct_mt * mt_value / 100, 1) if mt_value is not None else None
    device = session.get(Device, booking.device_id) if booking else None
    return {"motor_threshold_id": mt.id if mt else None, "mt_pct_mso": mt_value,
            "intensity_pct_mt": course.intensity_pct_mt, "output_pct_mso": output,
            "coil": device.coil_model if device else (mt.coil if mt else None), "site": course.target,
            "session_number": booking.sequence if booking else None}


def create(
    session: Session, who: Principal, patient_id: int, data: AdverseEventCreate, facility_type: str, now: datetime
) -> AdverseEvent:
    """Record an event; a serious one blocks the course and opens a reporting task."""
    onset = stamped(data.onset_at, now)
    patients.get_or_404(session, who, patient_id)
    course = clinic_day.course_for_patient(session, who.clinic_id, patient_id, data.course_id)
    today = clinic_day.clinic_today(session, who.clinic_id, now)
    validation.require_past("onset_at", onset, now, today)
    aware_on = data.aware_on or today
    validation.require_past("aware_on", aware_on, now, today)
    if aware_on < clinic_day.local_now(session, who.clinic_id, onset).date():
        raise Unprocessable("aware_on", "the clinic cannot have become aware before the onset")
    fields = data.model_dump() | {"onset_at": onset}
    c = _classify(fields)
    snapshot = _snapshot(session, course, patient_id, _booking(session, course, data.booking_id))
    event = AdverseEvent(**(fields | {"aware_on": aware_on}), **_classified(c), **snapshot,
                         clinic_id=who.clinic_id, patient_id=patient_id, reported_by=who.user_id,
                         created_at=now, updated_at=now)
    amendments.created(session, who, event, entity=ENTITY, patient_id=patient_id, now=now)
    if c.opens_reporting_task:
        reporting.open_task(session, who, event, facility_type, now)
    return event


def get_or_404(session: Session, who: Principal, event_id: int) -> AdverseEvent:
    """An event of the caller's clinic (404 otherwise)."""
    event = repository.get(session, who.clinic_id, event_id)
    if event is None:
        raise NotFound(f"adverse event {event_id} not found")
    return event


def amend(
    session: Session, who: Principal, event_id: int, data: AdverseEventAmend, facility_type: str, now: datetime
) -> AdverseEvent:
    """Amend with a reason and re-classify; becoming serious blocks the course and opens a reporting task."""
    event = get_or_404(session, who, event_id)
    changes = data.model_dump(exclude_unset=True, exclude={"reason"})
    c = _classify(event.model_dump() | changes)
    was_serious = event.serious
    amendments.amend_row(session, who, event, changes | _classified(c), entity=ENTITY, patient_id=event.patient_id,
                      reason=data.reason, now=now)
    if c.serious and not was_serious and not repository.tasks_for(session, [event.id or 0]):
        reporting.open_task(session, who, event, facility_type, now)
    return event


def clear(session: Session, who: Principal, event_id: int, data: ClearanceCreate, now: datetime) -> AdverseEvent:
    """A psychiatrist clears a serious event: further sessions of the course may go ahead."""
    event = get_or_404(session, who, event_id)
    if not event.serious:
        raise Unprocessable("serious", "only a serious event blocks the course; there is nothing to clear")
    if event.status != "open":
        raise validation.conflict("status", f"adverse event {event_id} is already cleared")
    event.status, event.cleared_by, event.cleared_at, event.clearance_note = "cleared", who.user_id, now, data.note
    event.updated_at = now
    session.add(event)
    session.flush()
    audit.record(session, who.actor, at=now, action="clear", entity=ENTITY, entity_id=event.id,
                 patient_id=event.patient_id, old={"status": "open"},
                 new={"status": "cleared", "clearance_note": data.note})
    return event


def history(session: Session, who: Principal, patient_id: int, now: datetime) -> list[AdverseEvent]:
    """The patient's adverse events; the read is audited."""
    patients.get_or_404(session, who, patient_id)
    rows = repository.for_patient(session, who.clinic_id, patient_id)
    amendments.read_audit(session, who, entity=ENTITY, patient_id=patient_id, now=now,
                       detail={"returned": [r.id for r in rows]})
    return rows


def public(session: Session, rows: list[AdverseEvent]) -> list[dict[str, Any]]:
    """Events with their reporting tasks and whether each blocks the course."""
    tasks = repository.tasks_for(session, [r.id or 0 for r in rows])
    return [r.model_dump() | {"blocks_course": r.serious and r.status == "open",
                              "reporting_tasks": [t for t in tasks if t.adverse_event_id == r.id]} for r in rows]
