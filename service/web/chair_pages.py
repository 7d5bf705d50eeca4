"""The technician's pages: the chair day (chairs side by side) and one booking at the chair.

Data comes from the booking, session and blocker services; every button posts to their API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from config import clinical_data
from service.adverse_events import reporting
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.blockers import service as blockers
from service.bookings import service as bookings
from service.chairs import repository as chairs
from service.clinics import repository as clinics
from service.core.errors import ServiceError
from service.models.patients import Patient
from service.models.sessions import LIVE, ChairStatus, TreatmentSession
from service.models.users import Role
from service.records import clinic_day
from service.sessions import lost_chairs
from service.sessions import service as sessions
from service.web import adverse_event_pages, blocker_links
from service.web.pages import page_roles, render
from service.web.self_report_pages import latest_self_reports

router = APIRouter(include_in_schema=False)
ChairPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist, Role.admin))]
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]
REFRESH_S = 5  # the chair day fetches itself this often (chairday.js)
QUICK_AE = ("headache", "application_site_pain", "facial_twitch", "syncope", "seizure", "other")


def _sessions_by_booking(session: Session, clinic_id: int, booking_ids: list[int]) -> dict[int, TreatmentSession]:
    if not booking_ids:
        return {}
    rows = session.exec(select(TreatmentSession).where(
        TreatmentSession.clinic_id == clinic_id, col(TreatmentSession.booking_id).in_(booking_ids))).all()
    return {r.booking_id: r for r in rows}


def _column(session: Session, who: Principal, chair: Any, device: Any, day: date, now: Any,
            lost_after_s: float) -> dict[str, Any]:
    schedule = bookings.chair_day(session, who, chair.id, day, now)
    by_booking = _sessions_by_booking(session, who.clinic_id, [e["booking_id"] for e in schedule["entries"]])
    status = session.get(ChairStatus, chair.id)
    in_chair = next((by_booking[e["booking_id"]] for e in schedule["entries"]
                     if e["booking_id"] in by_booking and e["status"] in ("checked_in", "in_progress")), None)
    return {"chair": chair, "device": device, "entries": schedule["entries"], "sessions": by_booking,
            "status": status, "lost": lost_chairs.is_lost(status, now, lost_after_s),
            "in_chair": in_chair, "timezone": schedule["timezone"]}


@router.get("/chairs")
def chair_day(
    request: Request, me: ChairPage, session: SessionDep, settings: SettingsDep, now: NowDep,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> Response:
    """Today's bookings for every chair, side by side, with device status and who is in the chair."""
    day = day or clinic_day.clinic_today(session, me.clinic_id, now)
    lost_chairs.sweep(session, me.clinic_id, now, settings.agent_lost_after_s)
    columns = [_column(session, me, chair, device, day, now, settings.agent_lost_after_s)
               for chair, device in chairs.chairs_with_devices(session, me.clinic_id) if chair.active]
    return render(request, "chairs.html", me, settings, day=day, columns=columns, page="chairs",
                  refresh_seconds=REFRESH_S)


def _checklist() -> list[Any]:
    return list(clinical_data.checklist().items)


def _quick_terms() -> list[dict[str, Any]]:
    terms = reporting.vocabulary()["terms"]
    return [t for t in terms if t["code"] in QUICK_AE]


def _session_context(session: Session, me: Principal, ts: TreatmentSession, now: Any) -> dict[str, Any]:
    preflight = sessions.preflight(session, me, ts.id or 0, now)
    return {"ts": ts, "preflight": preflight, "live": ts.status in {s.value for s in LIVE},
            "answers": (ts.checklist or {}).get("answers", {})}


@router.get("/chair/bookings/{booking_id}")
def booking_page(request: Request, booking_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
                 now: NowDep, self_report: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None) -> Response:
    """One booking at the chair: check-in, checklist, blocking reasons, dose, live progress, stop, AE form, and
    the patient's questionnaires (``self_report``: the one just answered in patient mode)."""
    booking = bookings.read(session, me, booking_id, now)
    patient = session.get(Patient, booking.patient_id)
    ts = _sessions_by_booking(session, me.clinic_id, [booking_id]).get(booking_id)
    clinic = clinics.get(session, me.clinic_id)
    context: dict[str, Any] = {
        "booking": booking, "patient": patient, "ts": None, "checklist": _checklist(), "terms": _quick_terms(),
        "page": "chairs", "live": False, "timezone": clinic.timezone if clinic else "UTC",
        "self_reports": latest_self_reports(session, me, booking.patient_id, booking.course_id, now),
        "just_reported": self_report, "recorded": adverse_event_pages.recorded_at_booking(session, me, booking, now),
        "grades": adverse_event_pages.grades()}
    if ts is not None:
        context |= _session_context(session, me, ts, now)
    else:
        try:
            found = blockers.for_patient(session, me, booking.patient_id, booking.course_id, now)
            listed = found["blockers"]
            assert isinstance(listed, list)  # for_patient answers a list of blockers
            context["blockers"] = found | {"blockers": blocker_links.before_check_in(listed)}
        except ServiceError as exc:
            context["blockers"] = {"blocked": True, "blockers": [{"code": exc.code, "message": exc.message}]}
    return render(request, "booking.html", me, settings, **context)
