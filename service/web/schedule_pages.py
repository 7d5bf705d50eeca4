"""Scheduling pages: a course's bookings (book one session, cancel or mark missed, re-plan), a chair's week, and
the authorization amendment form. Every form posts to the API route that records it (app.js), so the API's own
rules and roles apply; these routes only read."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.authorizations import service as authorizations
from service.bookings import service as bookings
from service.calendar import repository as calendar_rows
from service.calendar import service as calendar
from service.chairs import repository as chairs
from service.clinics import repository as clinics
from service.core.errors import NotFound
from service.courses import service as courses
from service.models.bookings import RELEASED
from service.models.courses import Course
from service.models.patients import Patient
from service.models.users import Role
from service.records import clinic_day
from service.users import repository as users
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
# The booking API serves all three staff roles; the front desk may be any of them.
StaffPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist, Role.admin))]
# Payer paperwork: the same roles as the authorization API.
PaperworkPage = Annotated[Principal, Depends(page_roles(Role.psychiatrist, Role.admin))]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _course_patient(session: Session, me: Principal, course_id: int) -> tuple[Patient, Course]:
    course = courses.get_or_404(session, me, course_id)
    patient = session.get(Patient, course.patient_id)
    assert patient is not None  # foreign key
    return patient, course


def _timezone(session: Session, clinic_id: int) -> str:
    clinic = clinics.get(session, clinic_id)
    return clinic.timezone if clinic is not None else "UTC"


def _names(session: Session, clinic_id: int) -> dict[int, str]:
    return {u.id or 0: u.display_name for u in users.in_clinic(session, clinic_id)}


@router.get("/courses/{course_id}/bookings")
def course_bookings(request: Request, course_id: Id, me: StaffPage, session: SessionDep, settings: SettingsDep,
                    now: NowDep) -> Response:
    """The course's bookings with date, time, chair and technician; book one more, cancel or mark one missed,
    re-plan the missed ones."""
    patient, course = _course_patient(session, me, course_id)
    tz = _timezone(session, me.clinic_id)
    rows = sorted(bookings.listing(session, me, None, None, course_id, now), key=lambda b: (b.start_at, b.id))
    seats = chairs.chairs_with_devices(session, me.clinic_id)
    chair_names = {c.id: c.name for c, _ in seats}
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    held = [b for b in rows if b.status not in RELEASED]
    placed = {b.sequence for b in held}  # a missed session booked again is no longer waiting for a re-plan
    return render(request, "course_bookings.html", me, settings, p=patient, c=course, rows=rows, tz=tz,
                  chair_names=chair_names, people=_names(session, me.clinic_id), today=today,
                  bookable=[c for c, d in seats if c.active and d is not None and d.active],
                  technicians=calendar_rows.technicians(session, me.clinic_id),
                  next_sequence=max((b.sequence for b in held), default=0) + 1,
                  missed=[b for b in rows if b.status in RELEASED and b.sequence not in placed], weekdays=WEEKDAYS,
                  page="patients")


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@router.get("/chairs/{chair_id}/week")
def chair_week(request: Request, chair_id: Id, me: StaffPage, session: SessionDep, settings: SettingsDep,
               now: NowDep, start: Annotated[date | None, Query()] = None) -> Response:
    """One chair's week from Monday: each day open (with hours) or closed (with why), and its bookings by time."""
    chair = chairs.get_chair(session, me.clinic_id, chair_id)
    if chair is None:
        raise NotFound(f"chair {chair_id} not found")
    first = _monday(start or clinic_day.clinic_today(session, me.clinic_id, now))
    last = first + timedelta(days=6)
    days = calendar.days(session, me.clinic_id, first, last)
    off = calendar_rows.days_off(session, me.clinic_id, start=first, end=last)
    names = _names(session, me.clinic_id)
    week: list[dict[str, Any]] = []
    for d in days:
        schedule = bookings.chair_day(session, me, chair_id, d["day"], now)
        week.append(d | {"weekday": WEEKDAYS[d["day"].weekday()], "entries": schedule["entries"],
                         "off": [f"{names.get(o.user_id, 'technician')}: {o.reason}" for o in off
                                 if o.day == d["day"]]})
    return render(request, "chair_week.html", me, settings, chair=chair, week=week, first=first, last=last,
                  previous=first - timedelta(days=7), following=first + timedelta(days=7),
                  tz=_timezone(session, me.clinic_id), people=names, page="chairs")


@router.get("/authorizations/{authorization_id}/edit")
def authorization_edit(request: Request, authorization_id: Id, me: PaperworkPage, session: SessionDep,
                       settings: SettingsDep) -> Response:
    """Amend a payer authorization (window, number, units, withdrawn), with the reason the record keeps."""
    auth = authorizations.get_or_404(session, me, authorization_id)
    shown = authorizations.public(session, auth)
    patient, course = _course_patient(session, me, auth.course_id)
    units = {u["cpt"]: u for u in shown["units"]}
    return render(request, "form_authorization_edit.html", me, settings, a=shown, p=patient, c=course,
                  units=units, page="patients")

