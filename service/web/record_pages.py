"""Forms for the records that clear treatment blockers: safety screening and clearance, MT determination,
rating scales, course activation, authorization and planning. Each form posts to the API route that records
it (app.js), so the API's rules and roles apply exactly as for any other client."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from config import clinical_data
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.chairs import repository as chairs
from service.courses import service as courses
from service.courses.service import TRANSITIONS
from service.models.courses import Course, CourseStatus
from service.models.patients import Patient
from service.models.users import Role
from service.motor_thresholds.schemas import Method, Muscle
from service.patients import service as patients
from service.records import clinic_day
from service.screenings import repository as screening_rows
from service.screenings import service as screenings
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]
PsychiatristPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist))]
AuthorizerPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist, Role.admin))]
CourseId = Annotated[int, Query(ge=1, le=2_147_483_647)]
SELF_REPORT = ("PHQ-9", "QIDS-SR16", "GAD-7")


def _patient_course(session: Session, me: Principal, patient_id: int, course_id: int) -> tuple[Patient, Course]:
    patient = patients.get_or_404(session, me, patient_id)
    return patient, clinic_day.course_for_patient(session, me.clinic_id, patient_id, course_id, field=None)


def _course_patient(session: Session, me: Principal, course_id: int) -> tuple[Patient, Course]:
    course = courses.get_or_404(session, me, course_id)
    patient = session.get(Patient, course.patient_id)
    assert patient is not None  # foreign key
    return patient, course


@router.get("/patients/{patient_id}/screening")
def screening_form(request: Request, patient_id: Id, course_id: CourseId, me: ClinicalPage, session: SessionDep,
                   settings: SettingsDep) -> Response:
    """The safety-screening questionnaire for a course, answered with the patient."""
    patient, course = _patient_course(session, me, patient_id, course_id)
    return render(request, "form_screening.html", me, settings, p=patient, c=course, q=screenings.questionnaire(),
                  page="patients")


@router.get("/patients/{patient_id}/screening/clearance")
def clearance_form(request: Request, patient_id: Id, course_id: CourseId, me: PsychiatristPage,
                   session: SessionDep, settings: SettingsDep) -> Response:
    """The findings of the course's newest screening that wait for the psychiatrist, each with its form."""
    patient, course = _patient_course(session, me, patient_id, course_id)
    row = screening_rows.latest_for_course(session, me.clinic_id, course.id or 0)
    shown = screenings.public(session, row) if row else None
    return render(request, "form_clearance.html", me, settings, p=patient, c=course, s=shown, page="patients")


@router.get("/patients/{patient_id}/screening/checks")
def screening_checks_form(request: Request, patient_id: Id, course_id: CourseId, me: ClinicalPage,
                          session: SessionDep, settings: SettingsDep) -> Response:
    """Absolute contraindications answered "unsure": a clinician records the answer once checked (no note clears
    them)."""
    patient, course = _patient_course(session, me, patient_id, course_id)
    row = screening_rows.latest_for_course(session, me.clinic_id, course.id or 0)
    shown = screenings.public(session, row) if row else None
    return render(request, "form_screening_checks.html", me, settings, p=patient, c=course, s=shown, page="patients")


@router.get("/patients/{patient_id}/motor-threshold")
def motor_threshold_form(request: Request, patient_id: Id, course_id: CourseId, me: ClinicalPage,
                         session: SessionDep, settings: SettingsDep) -> Response:
    """Record a motor-threshold determination: device and coil, method, muscle, value."""
    patient, course = _patient_course(session, me, patient_id, course_id)
    devices = [d for c, d in chairs.chairs_with_devices(session, me.clinic_id) if d is not None and c.active]
    return render(request, "form_motor_threshold.html", me, settings, p=patient, c=course, devices=devices,
                  methods=list(Method), muscles=list(Muscle), page="patients")


@router.get("/patients/{patient_id}/assessment")
def assessment_form(request: Request, patient_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
                    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
                    instrument: Annotated[str, Query(max_length=20)] = "PHQ-9") -> Response:
    """A rating scale, item by item: patient-reported (PHQ-9, QIDS-SR16, GAD-7) or clinician-rated. Without a
    course it is the evaluation's score, taken before any course is ordered, which payer criteria count as the
    baseline."""
    if course_id is None:
        patient, course = patients.get_or_404(session, me, patient_id), None
    else:
        patient, course = _patient_course(session, me, patient_id, course_id)
    scales = {i.id: i for i in clinical_data.scales().instruments}
    scale = scales.get(instrument) or scales["PHQ-9"]
    return render(request, "form_assessment.html", me, settings, p=patient, c=course, scale=scale,
                  scales=list(scales.values()), self_report=SELF_REPORT, page="patients")


@router.get("/courses/{course_id}/status")
def course_status_form(request: Request, course_id: Id, me: PsychiatristPage, session: SessionDep,
                       settings: SettingsDep) -> Response:
    """Activate (or hold, complete, discontinue) a course, with the reason the record keeps."""
    patient, course = _course_patient(session, me, course_id)
    allowed = sorted(s.value for s in TRANSITIONS[CourseStatus(course.status)])
    return render(request, "form_course_status.html", me, settings, p=patient, c=course, allowed=allowed,
                  page="patients")


@router.get("/courses/{course_id}/authorization")
def authorization_form(request: Request, course_id: Id, me: AuthorizerPage, session: SessionDep,
                       settings: SettingsDep, now: NowDep) -> Response:
    """Record the payer's authorization for a course: number, dates, units per CPT code."""
    patient, course = _course_patient(session, me, course_id)
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    return render(request, "form_authorization.html", me, settings, p=patient, c=course, today=today,
                  sessions=courses.public(session, course)["planned_sessions"], page="patients")


@router.get("/courses/{course_id}/plan")
def plan_form(request: Request, course_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
              now: NowDep) -> Response:
    """Plan the course's sessions from a first day: the planner books chairs, devices and technicians."""
    patient, course = _course_patient(session, me, course_id)
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    return render(request, "form_plan.html", me, settings, p=patient, c=course, today=today, page="patients")
