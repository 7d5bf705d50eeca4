"""The payer paperwork page: every open course with its authorizations and what is left of them, so the person who
files authorizations (often an administrator, who does not open clinical pages) reaches the forms that record and
amend them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from service.api.deps import NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.authorizations import repository as authorization_rows
from service.authorizations import service as authorizations
from service.courses import repository as course_rows
from service.models.patients import Patient
from service.models.users import Role
from service.records import clinic_day
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
PaperworkPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist, Role.admin))]


@router.get("/authorizations")
def authorizations_page(request: Request, me: PaperworkPage, session: SessionDep, settings: SettingsDep,
                        now: NowDep) -> Response:
    """Open courses, those with no authorization in force first, each linked to the form that files or amends one."""
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    rows: list[dict[str, Any]] = []
    for course in course_rows.open_courses(session, me.clinic_id):
        patient = session.get(Patient, course.patient_id)
        assert patient is not None  # foreign key
        held = authorization_rows.of_course(session, course.id or 0)
        in_force = authorizations.current(session, course, today)
        rows.append({"course": course, "patient": patient, "in_force": in_force,
                     "authorizations": [authorizations.public(session, a) for a in held]})
    rows.sort(key=lambda r: (r["in_force"] is not None, r["patient"].family_name, r["course"].id))
    return render(request, "authorizations.html", me, settings, rows=rows, today=today, page="authorizations")
