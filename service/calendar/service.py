"""Clinic calendar rules: hours and settings per clinic, closures, technician shifts; all writes audited.

A clinic that has not set its hours yet plans as Monday-Friday 08:00-18:00 (the defaults below), so a new
clinic can book at once; the first update stores its own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import holidays
from sqlmodel import Session

from schedules.calendar import ClinicCalendar
from schedules.gaps import GapPolicy
from schedules.resources import TechnicianResource
from service.audit import service as audit
from service.auth.principal import Principal
from service.calendar import repository
from service.calendar.schemas import ClosureCreate, DayHours, DayOffCreate, ScheduleUpdate, ShiftsReplace
from service.clinics import repository as clinics
from service.core.errors import Conflict, NotFound, Unprocessable
from service.models.calendar import ClinicClosure, ClinicSchedule, TechnicianDayOff, TechnicianShift
from service.models.clinics import Clinic

DEFAULT_HOURS = {str(d): ["08:00", "18:00"] for d in range(5)}
MAX_DAYS_LISTED = 400


def _clinic(session: Session, clinic_id: int) -> Clinic:
    clinic = clinics.get(session, clinic_id)
    if clinic is None:
        raise NotFound(f"clinic {clinic_id} not found")
    return clinic


def settings_of(session: Session, clinic_id: int) -> ClinicSchedule:
    """The clinic's stored settings, or the defaults (not stored) when it has none yet."""
    found = repository.schedule(session, clinic_id)
    if found is not None:
        return found
    return ClinicSchedule(clinic_id=clinic_id, hours=dict(DEFAULT_HOURS), open_on_holidays=[], version=0,
                          updated_at=datetime.min)


def hours_list(row: ClinicSchedule) -> list[DayHours]:
    """Stored hours as a list, Monday first."""
    hours = row.hours or {}
    return [DayHours(weekday=int(d), open=time.fromisoformat(v[0]), close=time.fromisoformat(v[1]))
            for d, v in sorted(hours.items(), key=lambda kv: int(kv[0]))]


def public(session: Session, clinic_id: int) -> dict[str, Any]:
    """The schedule as the API shows it."""
    clinic, row = _clinic(session, clinic_id), settings_of(session, clinic_id)
    return {
        "clinic_id": clinic_id, "timezone": clinic.timezone, "country": clinic.country,
        "subdivision": clinic.subdivision, "hours": hours_list(row), "setup_buffer_minutes": row.setup_buffer_minutes,
        "slot_step_minutes": row.slot_step_minutes, "gap_review_business_days": row.gap_review_business_days,
        "mt_stale_calendar_days": row.mt_stale_calendar_days, "open_on_holidays": row.open_on_holidays or [],
        "version": row.version,
    }


def update(session: Session, who: Principal, data: ScheduleUpdate, now: datetime) -> dict[str, Any]:
    """Replace hours and settings (and the clinic's holiday country/subdivision); old values are audited."""
    _check_region(data.country, data.subdivision)
    before = public(session, who.clinic_id)
    row = repository.schedule(session, who.clinic_id) or ClinicSchedule(clinic_id=who.clinic_id, hours={},
                                                                          version=0, updated_at=now)
    row.hours = {str(h.weekday): [h.open.strftime("%H:%M"), h.close.strftime("%H:%M")] for h in data.hours}
    for name in ("setup_buffer_minutes", "slot_step_minutes", "gap_review_business_days", "mt_stale_calendar_days",
                 "open_on_holidays"):
        setattr(row, name, getattr(data, name))
    row.version += 1
    row.updated_at = now
    clinic = _clinic(session, who.clinic_id)
    clinic.country, clinic.subdivision = data.country, data.subdivision
    session.add_all([row, clinic])
    session.flush()
    after = public(session, who.clinic_id)
    old, new = audit.changed_fields(before, after)
    audit.record(session, who.actor, at=now, action="update", entity="clinic_schedule", entity_id=who.clinic_id,
                 old=old, new=new, reason=data.reason)
    return after


def _check_region(country: str, subdivision: str | None) -> None:
    if country not in holidays.list_supported_countries():
        raise Unprocessable("country", f"no public-holiday calendar for country {country!r}")
    known = holidays.list_supported_countries()[country]
    if subdivision is not None and subdivision not in known:
        raise Unprocessable("subdivision", f"unknown subdivision {subdivision!r} of {country}; known: {known}")


def add_closure(session: Session, who: Principal, data: ClosureCreate, now: datetime) -> ClinicClosure:
    """Close the clinic on a local date."""
    if any(c.day == data.day for c in repository.closures(session, who.clinic_id, start=data.day, end=data.day)):
        raise Conflict(f"day: the clinic is already closed on {data.day}", code="duplicate_closure")
    closure = ClinicClosure(clinic_id=who.clinic_id, day=data.day, reason=data.reason, created_at=now)
    session.add(closure)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity="clinic_closure", entity_id=closure.id,
                 new={"day": data.day, "reason": data.reason})
    return closure


def withdraw_closure(session: Session, who: Principal, closure_id: int, reason: str, now: datetime) -> ClinicClosure:
    """Re-open a closed day; the closure row stays, marked withdrawn."""
    return _withdraw(session, who, repository.closure(session, who.clinic_id, closure_id), "closure", closure_id,
                     "clinic_closure", reason, now)


Withdrawable = TypeVar("Withdrawable", ClinicClosure, TechnicianDayOff)


def _withdraw(session: Session, who: Principal, row: Withdrawable | None, label: str, row_id: int, entity: str,
              reason: str, now: datetime) -> Withdrawable:
    """Mark a calendar row withdrawn (it stays, so the calendar's history does), audited with the reason."""
    if row is None:
        raise NotFound(f"{label} {row_id} not found")
    if row.withdrawn_at is not None:
        raise Conflict(f"{label} {row_id} was already withdrawn", code="already_withdrawn")
    row.withdrawn_at = now
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="withdraw", entity=entity, entity_id=row.id,
                 old={"withdrawn_at": None}, new={"withdrawn_at": now}, reason=reason)
    return row


def clinic_calendar(session: Session, clinic_id: int, *, start: date | None = None) -> ClinicCalendar:
    """The pure planner's calendar for this clinic (closures from ``start`` on, if given)."""
    clinic, row = _clinic(session, clinic_id), settings_of(session, clinic_id)
    hours = {h.weekday: (h.open, h.close) for h in hours_list(row)}
    closed = {c.day: c.reason for c in repository.closures(session, clinic_id, start=start)}
    return ClinicCalendar(clinic.timezone, hours, clinic.country, clinic.subdivision, closed,
                          frozenset(row.open_on_holidays or ()))


def gap_policy(session: Session, clinic_id: int) -> GapPolicy:
    """The clinic's gap thresholds."""
    row = settings_of(session, clinic_id)
    return GapPolicy(row.gap_review_business_days, row.mt_stale_calendar_days)


def days(session: Session, clinic_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """Each local date from start to end: open with its hours, or closed with why."""
    if end < start:
        raise Unprocessable("to", f"{end} is before 'from' ({start})")
    if (end - start).days >= MAX_DAYS_LISTED:
        raise Unprocessable("to", f"at most {MAX_DAYS_LISTED} days per request")
    cal = clinic_calendar(session, clinic_id, start=start)
    out = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        why = cal.closed_reason(day)
        hours = None if why else DayHours(weekday=day.weekday(), open=cal.hours[day.weekday()][0],
                                          close=cal.hours[day.weekday()][1])
        out.append({"day": day, "open": why is None, "hours": hours, "closed_reason": why})
    return out


def shifts_public(session: Session, clinic_id: int) -> list[dict[str, Any]]:
    """Every active technician with their weekly shift pieces."""
    pieces: defaultdict[int, list[TechnicianShift]] = defaultdict(list)
    for shift in repository.shifts(session, clinic_id):
        pieces[shift.user_id].append(shift)
    return [{"user_id": t.id, "display_name": t.display_name,
             "shifts": [{"weekday": s.weekday, "start": s.start, "end": s.end} for s in pieces[t.id or 0]]}
            for t in repository.technicians(session, clinic_id)]


def replace_shifts(session: Session, who: Principal, user_id: int, data: ShiftsReplace, now: datetime) -> None:
    """Set a technician's weekly shifts (pieces on one weekday may not overlap)."""
    if repository.technician(session, who.clinic_id, user_id) is None:
        raise NotFound(f"technician {user_id} not found")
    by_day = sorted(data.shifts, key=lambda s: (s.weekday, s.start))
    for a, b in zip(by_day, by_day[1:], strict=False):
        if a.weekday == b.weekday and b.start < a.end:
            raise Unprocessable("shifts", f"weekday {a.weekday}: {a.start}-{a.end} overlaps {b.start}-{b.end}")
    old = repository.shifts(session, who.clinic_id, user_id)
    before = [{"weekday": s.weekday, "start": s.start, "end": s.end} for s in old]
    for shift in old:
        session.delete(shift)  # configuration, not clinical data: the audit row keeps the old pattern
    session.add_all([TechnicianShift(clinic_id=who.clinic_id, user_id=user_id, weekday=s.weekday, start=s.start,
                                     end=s.end) for s in by_day])
    session.flush()
    audit.record(session, who.actor, at=now, action="update", entity="technician_shifts", entity_id=user_id,
                 old={"shifts": before}, new={"shifts": [s.model_dump() for s in by_day]}, reason=data.reason)


def planner_technicians(
    session: Session, clinic_id: int, *, since: date | None = None
) -> tuple[TechnicianResource, ...]:
    """The clinic's active technicians, shifts and days off (from ``since`` on, if given) as the pure planner's
    resources (ids as strings)."""
    pieces: defaultdict[int, defaultdict[int, list[tuple[time, time]]]] = defaultdict(lambda: defaultdict(list))
    for s in repository.shifts(session, clinic_id):
        pieces[s.user_id][s.weekday].append((s.start, s.end))
    off: defaultdict[int, set[date]] = defaultdict(set)
    for d in repository.days_off(session, clinic_id, start=since):
        off[d.user_id].add(d.day)
    return tuple(TechnicianResource(str(t.id), {d: tuple(p) for d, p in pieces[t.id or 0].items()},
                            frozenset(off[t.id or 0]))
                 for t in repository.technicians(session, clinic_id))


def add_day_off(session: Session, who: Principal, data: DayOffCreate, now: datetime) -> TechnicianDayOff:
    """Record a technician's day off (the planner and single bookings then skip them that day)."""
    if repository.technician(session, who.clinic_id, data.user_id) is None:
        raise NotFound(f"technician {data.user_id} not found")
    if repository.days_off(session, who.clinic_id, user_id=data.user_id, start=data.day, end=data.day):
        raise Conflict(f"day: technician {data.user_id} is already off on {data.day}", code="duplicate_day_off")
    row = TechnicianDayOff(clinic_id=who.clinic_id, user_id=data.user_id, day=data.day, reason=data.reason,
                           created_by=who.user_id, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity="technician_day_off", entity_id=row.id,
                 new={"user_id": data.user_id, "day": data.day, "reason": data.reason})
    return row


def withdraw_day_off(session: Session, who: Principal, day_off_id: int, reason: str, now: datetime) -> TechnicianDayOff:
    """The technician works that day after all; the row stays, marked withdrawn (moved bookings stay moved)."""
    return _withdraw(session, who, repository.day_off(session, who.clinic_id, day_off_id), "day off", day_off_id,
                     "technician_day_off", reason, now)
