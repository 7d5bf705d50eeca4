"""Adverse events after the fact: amend one (with the reason the record keeps), clear a serious one
(psychiatrist), and record that a reporting task's report was made. Forms post to the adverse-event API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from config import clinical_data
from service.adverse_events import repository
from service.adverse_events import service as adverse_events
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.clinics import repository as clinics
from service.models.patients import Patient
from service.models.users import Role
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]


def grades() -> dict[int, str]:
    """CTCAE grade → its meaning, as the vocabulary words it."""
    return {int(k): v for k, v in clinical_data.adverse_events().grades.items()}


def recorded_at_booking(session: Session, me: Principal, booking: Any, now: datetime) -> dict[str, list[datetime]]:
    """Onset times of the events already recorded at this booking, by term (a second tap asks first)."""
    found: dict[str, list[datetime]] = {}
    for event in repository.for_patient(session, me.clinic_id, booking.patient_id, booking.course_id):
        if event.booking_id == booking.id:
            found.setdefault(event.term, []).append(event.onset_at)
    return found


def _timezone(session: Session, me: Principal) -> str:
    clinic = clinics.get(session, me.clinic_id)
    return clinic.timezone if clinic else "UTC"


@router.get("/patients/{patient_id}/adverse-events")
def patient_events(request: Request, patient_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
                   now: NowDep) -> Response:
    """Every adverse event of the patient, each linking to its amend / clearance / reporting page."""
    rows = adverse_events.history(session, me, patient_id, now)
    return render(request, "adverse_events.html", me, settings, p=session.get(Patient, patient_id),
                  events=adverse_events.public(session, rows), grades=grades(), tzname=_timezone(session, me),
                  page="patients")


@router.get("/adverse-events/{event_id}")
def event_page(request: Request, event_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
               now: NowDep) -> Response:
    """One adverse event: what was recorded, the amendment form, clearance and its reporting tasks."""
    event = adverse_events.get_or_404(session, me, event_id)
    adverse_events.history(session, me, event.patient_id, now)  # the read is audited like the API's
    shown = adverse_events.public(session, [event])[0]
    vocabulary = clinical_data.adverse_events()
    return render(request, "adverse_event.html", me, settings, e=shown, p=session.get(Patient, event.patient_id),
                  grades=grades(), vocab=vocabulary, tzname=_timezone(session, me), page="patients")
