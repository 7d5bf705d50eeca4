"""Screening rules: current questionnaire only, one screen per course (newest wins), clearances by psychiatrists."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import Session

from config import clinical_data
from service.audit import service as audit
from service.auth.principal import Principal
from service.core import validation
from service.core.clock import as_utc
from service.core.errors import NotFound, Unprocessable
from service.medications import service as medications
from service.models.courses import Course
from service.models.screenings import Screening, ScreeningCheck, ScreeningClearance
from service.patients import service as patients
from service.records import amendments, clinic_day
from service.rules import screening as rules
from service.screenings import repository
from service.screenings.schemas import CheckCreate, ClearanceCreate, ScreeningCreate

ENTITY = "screening"
CLEARANCE = "screening_clearance"
CHECK = "screening_check"


def evaluate(session: Session, row: Screening) -> rules.ScreeningResult:
    """The stored answers with their clearances, judged by the current questionnaire."""
    clearances = {
        c.item_id: rules.Clearance(c.cleared_by_name, c.reason, as_utc(c.cleared_at).date())
        for c in repository.clearances(session, row.id or 0)
    }
    known = {i.id for i in clinical_data.screening().items}
    # Items dropped from a newer questionnaire are ignored; items added to it show up as unanswered.
    answers = {k: v for k, v in row.answers.items() if k in known}
    checked = {c.item_id: c.answer for c in repository.checks(session, row.id or 0)
               if c.item_id in known and answers.get(c.item_id) == "unsure"}
    return rules.evaluate(answers, clearances={k: v for k, v in clearances.items() if k in known}, checked=checked)


def currency(session: Session, row: Screening, course: Course) -> rules.ScreeningCurrency:
    """Does this screen still apply to its course: no medication change since?"""
    changes = medications.changes_for_rules(session, row.clinic_id, row.patient_id)
    return rules.currency(row.completed_on, for_current_course=True,
                          medication_changes=[c.changed_on for c in changes],
                          is_retreatment=course.kind == "retreatment")


def create(session: Session, who: Principal, patient_id: int, data: ScreeningCreate, now: datetime) -> Screening:
    """Store a completed screen for one of the patient's courses; answers are checked against the questionnaire."""
    patients.get_or_404(session, who, patient_id)
    clinic_day.course_for_patient(session, who.clinic_id, patient_id, data.course_id)
    today = clinic_day.clinic_today(session, who.clinic_id, now)
    completed_on = data.completed_on or today
    validation.require_past("completed_on", completed_on, now, today)
    with validation.field_errors():
        result = rules.evaluate(data.answers, data.questionnaire_version)
    row = Screening(clinic_id=who.clinic_id, patient_id=patient_id, course_id=data.course_id,
                    questionnaire_version=result.questionnaire_version, answers=dict(data.answers),
                    completed_on=completed_on, status=result.status, screened_by=who.user_id,
                    created_at=now, updated_at=now)
    amendments.created(session, who, row, entity=ENTITY, patient_id=patient_id, now=now)
    return row


def get_or_404(session: Session, who: Principal, screening_id: int) -> Screening:
    """A screen of the caller's clinic (404 otherwise)."""
    row = repository.get(session, who.clinic_id, screening_id)
    if row is None:
        raise NotFound(f"screening {screening_id} not found")
    return row


def public(session: Session, row: Screening) -> dict[str, Any]:
    """The screen with its verdict, findings, clearances and whether it is still current."""
    result = evaluate(session, row)
    course = session.get(Course, row.course_id)
    assert course is not None  # foreign key
    cur = currency(session, row, course)
    return row.model_dump() | {
        "status": result.status, "absolute": [asdict(f) for f in result.absolute],
        "relative": [asdict(f) for f in result.relative], "missing_items": list(result.missing_items),
        "reasons": list(result.reasons), "current": cur.current, "currency_reasons": list(cur.reasons),
        "clearances": repository.clearances(session, row.id or 0), "checks": repository.checks(session, row.id or 0),
    }


def read(session: Session, who: Principal, screening_id: int, now: datetime) -> Screening:
    """One screen; the read is audited."""
    row = get_or_404(session, who, screening_id)
    amendments.read_audit(session, who, entity=ENTITY, entity_id=row.id, patient_id=row.patient_id, now=now)
    return row


def history(session: Session, who: Principal, patient_id: int, course_id: int | None, now: datetime) -> list[Screening]:
    """The patient's screens (optionally of one course); the read is audited."""
    patients.get_or_404(session, who, patient_id)
    rows = repository.for_patient(session, who.clinic_id, patient_id, course_id)
    amendments.read_audit(session, who, entity=ENTITY, patient_id=patient_id, now=now,
                       detail={"returned": [r.id for r in rows]})
    return rows


def _check_clearable(result: rules.ScreeningResult, item_id: str) -> None:
    absolute = next((f for f in result.absolute if f.item_id == item_id), None)
    if absolute is not None and absolute.unsure:
        raise Unprocessable("item_id", f"{item_id} was answered 'unsure' and counts as an absolute contraindication"
                            " until checked: record the checked answer (POST /screenings/{id}/checks), a note"
                            " cannot clear it")
    if absolute is not None:
        raise Unprocessable("item_id", f"{item_id} is an absolute contraindication: it cannot be cleared")
    finding = next((f for f in result.relative if f.item_id == item_id), None)
    if finding is None:
        raise Unprocessable("item_id", f"{item_id} is not a relative finding of this screen: nothing to clear")
    if finding.cleared:
        raise validation.conflict("item_id", f"{item_id} is already cleared")


def clear(session: Session, who: Principal, screening_id: int, data: ClearanceCreate, now: datetime) -> Screening:
    """Record a psychiatrist's clearance of one relative finding, with the reason."""
    row = get_or_404(session, who, screening_id)
    _check_clearable(evaluate(session, row), data.item_id)
    clearance = ScreeningClearance(clinic_id=who.clinic_id, screening_id=row.id or 0, item_id=data.item_id,
                                   reason=data.reason, cleared_by=who.user_id, cleared_by_name=who.display_name,
                                   cleared_at=now)
    amendments.created(session, who, clearance, entity=CLEARANCE, patient_id=row.patient_id, now=now)
    _refresh_status(session, who, row, f"clearance of {data.item_id}", now)
    return row


def _refresh_status(session: Session, who: Principal, row: Screening, why: str, now: datetime) -> None:
    old_status = row.status
    row.status, row.updated_at = evaluate(session, row).status, now
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="update", entity=ENTITY, entity_id=row.id,
                 patient_id=row.patient_id, old={"status": old_status}, new={"status": row.status}, reason=why)


def check(session: Session, who: Principal, screening_id: int, data: CheckCreate, now: datetime) -> Screening:
    """Record the checked answer to an item answered "unsure"; until then it counts as a yes."""
    row = get_or_404(session, who, screening_id)
    if data.item_id not in {i.id for i in clinical_data.screening().items}:
        raise Unprocessable("item_id", f"{data.item_id} is not an item of the current questionnaire")
    if row.answers.get(data.item_id) != "unsure":
        raise Unprocessable("item_id", f"{data.item_id} was answered {row.answers.get(data.item_id)!r}, not 'unsure':"
                            " only an unsure answer is checked; record a new screen to change an answer")
    if any(c.item_id == data.item_id for c in repository.checks(session, row.id or 0)):
        raise validation.conflict("item_id", f"{data.item_id} already has a checked answer")
    entry = ScreeningCheck(clinic_id=who.clinic_id, screening_id=row.id or 0, item_id=data.item_id,
                           answer=data.answer, how_checked=data.how_checked, checked_by=who.user_id,
                           checked_by_name=who.display_name, checked_at=now)
    amendments.created(session, who, entry, entity=CHECK, patient_id=row.patient_id, now=now)
    _refresh_status(session, who, row, f"checked answer to {data.item_id}: {data.answer}", now)
    return row


def questionnaire() -> dict[str, Any]:
    """The current questionnaire: version, allowed answers, items with their category on 'yes'."""
    data = clinical_data.screening()
    return {"version": data.version, "answers": list(data.answers), "unsure_maps_to": data.unsure_maps_to,
            "items": [i.model_dump() for i in data.items]}
