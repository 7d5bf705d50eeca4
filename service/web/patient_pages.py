"""Patient pages: the clinic's patient list, and one patient's demographics, medication trials with the
eligibility verdict per payer set and what is missing, screening and clearances, MT history, assessments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from service.adverse_events import service as adverse_events
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.assessments import service as assessments
from service.auth.principal import Principal
from service.eligibility import service as eligibility
from service.medications import service as medications
from service.models.courses import Course
from service.models.medications import MedicationTrial, PsychotherapyTrial
from service.models.users import Role
from service.motor_thresholds import service as motor_thresholds
from service.patients import service as patients
from service.records import clinic_day
from service.screenings import service as screenings
from service.web.course_pages import clearance_signatures
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]


@router.get("/patients")
def patient_list(request: Request, me: ClinicalPage, session: SessionDep, settings: SettingsDep, now: NowDep,
                 q: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    """Search the clinic's patients by name or MRN."""
    rows, total = patients.search(session, me, now, q=q, limit=100, offset=0)
    return render(request, "patients.html", me, settings, rows=rows, total=total, q=q or "", page="patients")


def _eligibility(session: Session, me: Principal, patient_id: int, now: Any) -> list[dict[str, Any]]:
    """The verdict under every payer criteria set the clinic knows."""
    return [eligibility.decide(session, me, patient_id, c["id"], now) for c in eligibility.criteria_sets()]


def _courses(session: Session, clinic_id: int, patient_id: int) -> list[Course]:
    return list(session.exec(select(Course).where(Course.clinic_id == clinic_id, Course.patient_id == patient_id)
                             .order_by(col(Course.ordered_at).desc())).all())


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
                 now: NowDep) -> Response:
    """Everything recorded about one patient of the clinic, through the clinical services (each read audited)."""
    patient = patients.read(session, me, patient_id, now)
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    trials = medications.with_assessments(
        medications.history(session, me, MedicationTrial, patient_id, now), today)
    screens = [screenings.public(session, s) for s in screenings.history(session, me, patient_id, None, now)]
    context = {
        "p": patient, "trials": trials, "page": "patients",
        "therapies": medications.history(session, me, PsychotherapyTrial, patient_id, now),
        "decisions": _eligibility(session, me, patient_id, now),
        "screenings": screens, "clearance_signatures": clearance_signatures(session, me.clinic_id, screens),
        "mts": motor_thresholds.history(session, me, patient_id, now),
        "assessments": assessments.public(session, assessments.history(session, me, patient_id, now)),
        "events": adverse_events.history(session, me, patient_id, now),
        "courses": _courses(session, me.clinic_id, patient_id),
        "tzname": clinic_day.clinic(session, me.clinic_id).timezone,
    }
    return render(request, "patient.html", me, settings, **context)
