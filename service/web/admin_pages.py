"""The administrator's pages: the clinic calendar (hours, closures, shifts, days off), staff accounts, and chairs
with their devices. Every form posts to the admin API route that records it (app.js), so the API's rules apply;
nothing here deletes: closures and days off are withdrawn with a reason, accounts and equipment deactivated."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from service.api.deps import NowDep, SessionDep, SettingsDep
from service.auth.principal import Principal
from service.bookings import repository as booking_rows
from service.bookings.staffing import MOVABLE
from service.calendar import repository as calendar_rows
from service.calendar import service as calendar
from service.chairs import capabilities
from service.chairs import repository as chairs
from service.models.calendar import TechnicianDayOff
from service.models.users import Role
from service.records import clinic_day
from service.users import repository as users
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
AdminPage = Annotated[Principal, Depends(page_roles(Role.admin))]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Days off this far back stay listed, so a recent one can still be seen (and a mistaken one withdrawn).
DAYS_OFF_LOOKBACK = timedelta(days=14)
STAFF_ROLES = (Role.technician, Role.psychiatrist, Role.admin)


@router.get("/admin")
def admin_home(me: AdminPage) -> Response:
    """The Admin entry opens the calendar; the other admin pages are linked from there."""
    return RedirectResponse("/admin/calendar", status_code=303)


def _hour_rows(schedule: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per weekday: open with its hours, or closed (a closed row offers the usual hours to tick)."""
    hours = {h.weekday: h for h in schedule["hours"]}
    rows = []
    for weekday, name in enumerate(WEEKDAYS):
        h = hours.get(weekday)
        rows.append({"weekday": weekday, "name": name, "open": h is not None,
                     "from": h.open.strftime("%H:%M") if h else "08:00",
                     "to": h.close.strftime("%H:%M") if h else "18:00"})
    return rows


def _shift_rows(pieces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The technician's shift pieces, plus an unticked row for each weekday without one."""
    rows = [{"weekday": p["weekday"], "name": WEEKDAYS[p["weekday"]], "on": True,
             "from": p["start"].strftime("%H:%M"), "to": p["end"].strftime("%H:%M")} for p in pieces]
    worked = {p["weekday"] for p in pieces}
    rows += [{"weekday": d, "name": WEEKDAYS[d], "on": False, "from": "08:00", "to": "18:00"}
             for d in range(7) if d not in worked]
    return sorted(rows, key=lambda r: (r["weekday"], r["from"]))


def _still_held(session: Session, clinic_id: int, tz: str, days_off: list[TechnicianDayOff]) -> dict[int, list[Any]]:
    """Per day off still in force, the bookings that technician still holds that day: the ones no colleague on
    shift could take (each flagged for the front desk), so the page shows what is left to sort out."""
    zone = ZoneInfo(tz)
    out: dict[int, list[Any]] = {}
    for off in days_off:
        if off.withdrawn_at is None:
            start = datetime.combine(off.day, time.min, tzinfo=zone).astimezone(UTC)
            out[off.id or 0] = booking_rows.of_technician(session, clinic_id, off.user_id, start,
                                                          start + timedelta(days=1), MOVABLE)
    return out


@router.get("/admin/calendar")
def calendar_page(request: Request, me: AdminPage, session: SessionDep, settings: SettingsDep,
                  now: NowDep) -> Response:
    """Opening hours and settings, closures, each technician's weekly shifts and days off."""
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    schedule = calendar.public(session, me.clinic_id)
    names = {u.id: u.display_name for u in users.in_clinic(session, me.clinic_id)}
    technicians = [t | {"rows": _shift_rows(t["shifts"])} for t in calendar.shifts_public(session, me.clinic_id)]
    days_off = calendar_rows.days_off(session, me.clinic_id, start=today - DAYS_OFF_LOOKBACK, active_only=False)
    return render(request, "admin_calendar.html", me, settings, schedule=schedule, hour_rows=_hour_rows(schedule),
                  closures=calendar_rows.closures(session, me.clinic_id, active_only=False), days_off=days_off,
                  still_held=_still_held(session, me.clinic_id, schedule["timezone"], days_off),
                  technicians=technicians, names=names, today=today, weekdays=WEEKDAYS, page="admin")


@router.get("/admin/users")
def users_page(request: Request, me: AdminPage, session: SessionDep, settings: SettingsDep) -> Response:
    """The clinic's accounts: add one, rename, change role, deactivate or reactivate (with a reason)."""
    return render(request, "admin_users.html", me, settings, people=users.in_clinic(session, me.clinic_id),
                  roles=[r.value for r in STAFF_ROLES], page="admin")


@router.get("/admin/chairs")
def chairs_page(request: Request, me: AdminPage, session: SessionDep, settings: SettingsDep) -> Response:
    """Chairs with the device at each, and every device: register, amend, move or deactivate (with a reason)."""
    seats = chairs.chairs_with_devices(session, me.clinic_id)
    devices = chairs.devices(session, me.clinic_id)
    held = {c.device_id: c for c, _ in seats if c.device_id is not None}
    return render(request, "admin_chairs.html", me, settings, seats=seats, devices=devices, held=held,
                  free=[d for d in devices if d.id not in held and d.active],
                  models=capabilities.known_models(), page="admin")
