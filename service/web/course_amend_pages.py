"""Course amendment (prescription, window, start, authorized counts, with a reason) and the course extension
under its template's rule; both post to the API route that records them (app.js), psychiatrists only."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from service.api.deps import Id, SessionDep, SettingsDep
from service.audit import history as audit_history
from service.auth.principal import Principal
from service.bookings import extension
from service.core.errors import Conflict
from service.courses import repository as course_rows
from service.courses import service as courses
from service.courses.schemas import Placement
from service.models.patients import Patient
from service.models.users import Role
from service.records import clinic_day
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
PsychiatristPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist))]


@router.get("/courses/{course_id}/edit")
def course_edit_form(request: Request, course_id: Id, me: PsychiatristPage, session: SessionDep,
                     settings: SettingsDep) -> Response:
    """Amend the course: only changed fields are sent, with the reason the record keeps."""
    course = courses.get_or_404(session, me, course_id)
    patient = session.get(Patient, course.patient_id)
    return render(request, "form_course_edit.html", me, settings, p=patient, c=course,
                  phases=course_rows.phases(session, course_id), placements=list(get_args(Placement)),
                  history=audit_history.amendments(session, me.clinic_id, "course", course_id),
                  tzname=clinic_day.clinic(session, me.clinic_id).timezone, page="patients")


@router.get("/courses/{course_id}/extension")
def extension_form(request: Request, course_id: Id, me: PsychiatristPage, session: SessionDep,
                   settings: SettingsDep) -> Response:
    """Whether the course's extension rule applies now (and why not), and the form that extends it."""
    course = courses.get_or_404(session, me, course_id)
    patient = session.get(Patient, course.patient_id)
    try:
        ev = extension.evaluate(session, me, course_id)
    except Conflict as exc:  # the template has no extension rule: say so rather than refuse the page
        return render(request, "form_extension.html", me, settings, p=patient, c=course, ev=None,
                      no_rule=exc.message.removeprefix("course_id: "), page="patients")
    return render(request, "form_extension.html", me, settings, p=patient, c=course, ev=ev.public(),
                  rule_phases=ev.rule.phases, no_rule=None, page="patients")
