"""Clinic calendar endpoints: hours and settings, days open or closed, closures, technician shifts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AdminUser, Id, NowDep, SessionDep, StaffUser
from service.bookings import staffing
from service.calendar import repository, service
from service.calendar.schemas import (
    ClosureCreate,
    ClosurePublic,
    ClosureWithdraw,
    DayOffCreate,
    DayOffOutcome,
    DayOffPublic,
    DayOffWithdraw,
    DayPublic,
    SchedulePublic,
    ScheduleUpdate,
    ShiftsReplace,
    TechnicianShifts,
)

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])


@router.get("", response_model=SchedulePublic)
def get_schedule(who: StaffUser, session: SessionDep) -> object:
    """Your clinic's opening hours, holiday region and scheduling settings."""
    return service.public(session, who.clinic_id)


@router.put("", response_model=SchedulePublic)
def update_schedule(body: ScheduleUpdate, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Replace opening hours and scheduling settings, with a reason."""
    return service.update(session, who, body, now)


@router.get("/days", response_model=list[DayPublic])
def list_days(
    who: StaffUser, session: SessionDep,
    start: Annotated[date, Query(alias="from", description="First local date")],
    end: Annotated[date, Query(alias="to", description="Last local date (inclusive)")],
) -> object:
    """Each date in the range: open with its hours, or closed (holiday, closure, weekday) with the reason."""
    return service.days(session, who.clinic_id, start, end)


@router.get("/closures", response_model=list[ClosurePublic])
def list_closures(who: StaffUser, session: SessionDep) -> object:
    """Your clinic's closures, withdrawn ones included."""
    return repository.closures(session, who.clinic_id, active_only=False)


@router.post("/closures", status_code=201, response_model=ClosurePublic)
def add_closure(body: ClosureCreate, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Close the clinic on a date (bookings that day are not moved: re-plan them)."""
    return service.add_closure(session, who, body, now)


@router.post("/closures/{closure_id}/withdraw", response_model=ClosurePublic)
def withdraw_closure(closure_id: Id, body: ClosureWithdraw, who: AdminUser, session: SessionDep,
                     now: NowDep) -> object:
    """Re-open a closed date, with a reason."""
    return service.withdraw_closure(session, who, closure_id, body.reason, now)


@router.get("/shifts", response_model=list[TechnicianShifts])
def list_shifts(who: StaffUser, session: SessionDep) -> object:
    """Every technician's weekly shifts."""
    return service.shifts_public(session, who.clinic_id)


@router.put("/shifts/{user_id}", status_code=204)
def replace_shifts(user_id: Id, body: ShiftsReplace, who: AdminUser, session: SessionDep, now: NowDep) -> None:
    """Replace one technician's weekly shifts, with a reason."""
    service.replace_shifts(session, who, user_id, body, now)


@router.get("/days-off", response_model=list[DayOffPublic])
def list_days_off(
    who: StaffUser, session: SessionDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    user_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    include_withdrawn: bool = False,
) -> object:
    """Technicians' days off (optionally one technician's, or a date range)."""
    return repository.days_off(session, who.clinic_id, user_id=user_id, start=start, end=end,
                               active_only=not include_withdrawn)


@router.post("/days-off", status_code=201, response_model=DayOffOutcome)
def add_day_off(body: DayOffCreate, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Record a technician's day off; their bookings that day go to a colleague on shift, or are flagged."""
    off = service.add_day_off(session, who, body, now)
    return {"day_off": off} | staffing.cover_day_off(session, who, off, now)


@router.post("/days-off/{day_off_id}/withdraw", response_model=DayOffPublic)
def withdraw_day_off(day_off_id: Id, body: DayOffWithdraw, who: AdminUser, session: SessionDep,
                     now: NowDep) -> object:
    """The technician works that day after all (bookings already handed over stay with the colleague)."""
    return service.withdraw_day_off(session, who, day_off_id, body.reason, now)
