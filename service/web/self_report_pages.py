"""Patient self-report at the chair: the technician hands the tablet to the patient for a PHQ-9 or GAD-7.

Handing over signs the technician out first (their session is revoked, the cookie dropped), so the tablet holds
no signed-in session while the patient has it: Back, reload or a typed address find only the questionnaire or
the sign-in page, never the technician's pages, and no API call can be made from it. The answers stay in the
page until the technician signs in again on it (their password, through the ordinary login route); only then
are they posted to the assessments API, which scores them, raises any alert and stamps the time.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from config import clinical_data
from service.api.deps import SESSION_COOKIE, Id, NowDep, SessionDep, SettingsDep, public
from service.assessments import service as assessments
from service.auth import service as auth_service
from service.auth.principal import Principal
from service.bookings import service as bookings
from service.core.errors import Unprocessable
from service.models.users import Role
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]
HANDED = ("PHQ-9", "GAD-7")
# The printed answer set both questionnaires share (0-3), asked about the last two weeks.
ANSWERS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
IdQuery = Annotated[int, Query(ge=1, le=2_147_483_647)]


DIFFICULTY = ("Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult")


def _scale(instrument: str) -> Any:
    if instrument not in HANDED:
        raise Unprocessable("instrument", f"choose one of {', '.join(HANDED)}")
    return next(i for i in clinical_data.scales().instruments if i.id == instrument)


@router.post("/chair/bookings/{booking_id}/self-report")
def hand_to_patient(booking_id: Id, me: ClinicalPage, session: SessionDep, now: NowDep,
                    instrument: Annotated[str, Form(max_length=20)]) -> Response:
    """Sign the technician out and show the locked questionnaire (the booking names patient and course)."""
    _scale(instrument)
    booking = bookings.read(session, me, booking_id, now)
    auth_service.logout(session, me, now)
    query = (f"instrument={instrument}&booking={booking_id}&patient={booking.patient_id}"
             f"&course={booking.course_id}&user={me.username}")
    redirect = RedirectResponse(f"/self-report?{query}", status_code=303)
    redirect.delete_cookie(SESSION_COOKIE)
    return redirect


@router.get("/self-report", dependencies=[Depends(public())])
def self_report(request: Request, settings: SettingsDep, instrument: Annotated[str, Query(max_length=20)],
                booking: IdQuery, patient: IdQuery, course: IdQuery,
                user: Annotated[str, Query(max_length=80)] = "") -> Response:
    """The questionnaire alone, large: no navigation and nothing about the patient (the page is public, so it
    shows only what is printed on the paper form; the ids say where the answers go once a technician signs in)."""
    scale = _scale(instrument)
    return render(request, "self_report.html", None, settings, scale=scale, answers=ANSWERS, difficulty=DIFFICULTY,
                  target={"booking": booking, "patient": patient, "course": course, "user": user})


def latest_self_reports(session: Session, me: Principal, patient_id: int, course_id: int, now: Any
                        ) -> list[dict[str, Any]]:
    """Per handed-over instrument: the newest score with its alerts, and the course's trajectory of totals."""
    shown = []
    for instrument in HANDED:
        rows = assessments.history(session, me, patient_id, now, instrument=instrument, course_id=course_id)
        if rows:
            latest = assessments.public(session, rows[-1:])[0]
            shown.append({"instrument": instrument, "latest": latest,
                          "trajectory": [(r.administered_at, r.total) for r in rows]})
    return shown
