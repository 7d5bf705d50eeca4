"""Booking rules: one session holds a chair, its device, a technician and the patient; nothing overlaps.

The overlap check runs inside the request's transaction. On SQLite that transaction began with
BEGIN IMMEDIATE (service.core.db), so check and insert are one serialized step; on PostgreSQL two racing
transactions can both pass the check, and the exclusion constraint refuses the second at insert. Either
way the loser gets a 409 naming the resource.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.audit import service as audit
from service.audit.service import Actor
from service.auth.principal import Principal
from service.authorizations import service as authorizations
from service.bookings import repository
from service.bookings.schemas import BookingCreate
from service.calendar import repository as calendar_repo
from service.calendar import service as calendar
from service.calendar.schemas import MAX_SETUP_BUFFER_MINUTES
from service.chairs import capabilities
from service.chairs import repository as chairs
from service.core.clock import as_utc
from service.core.errors import Conflict, NotFound, Unprocessable
from service.courses import repository as course_repo
from service.courses import service as courses
from service.models.authorizations import Authorization
from service.models.bookings import RESOURCES, Booking, BookingStatus
from service.models.chairs import Device
from service.models.courses import Course, CoursePhase
from service.rules import protocols as protocol_rules

ENTITY = "booking"
BOOKABLE_COURSE = ("planned", "active")
S = BookingStatus
TRANSITIONS: dict[BookingStatus, set[BookingStatus]] = {
    S.booked: {S.checked_in, S.in_progress, S.no_show, S.cancelled},
    S.checked_in: {S.in_progress, S.no_show, S.cancelled},
    S.in_progress: {S.completed, S.interrupted, S.aborted},
    S.interrupted: {S.in_progress, S.completed, S.aborted},
    S.completed: set(), S.no_show: set(), S.cancelled: set(), S.aborted: set(),
}
_CONSTRAINT = re.compile(r"ex_booking_(chair|device|technician|patient)")


def session_minutes(course: Course) -> int:
    """Whole minutes of the protocol's session (the slot adds the clinic's set-up buffer)."""
    return math.ceil(courses.protocol_of(course.protocol_id).session_duration_s / 60)


def slot(session: Session, course: Course) -> timedelta:
    """How long a booking of this course holds its resources."""
    buffer = calendar.settings_of(session, course.clinic_id).setup_buffer_minutes
    return timedelta(minutes=session_minutes(course) + buffer)


def longest_slot() -> timedelta:
    """The longest any booking holds its resources: the catalog's longest protocol plus the largest set-up buffer a
    clinic's settings accept. Planning reads the bookings that start up to this long before the hours it searches."""
    longest = max(math.ceil(p.session_duration_s / 60) for p in protocol_rules.catalog())
    return timedelta(minutes=longest + MAX_SETUP_BUFFER_MINUTES)


def public(session: Session, booking: Booking) -> dict[str, Any]:
    auth = session.get(Authorization, booking.authorization_id) if booking.authorization_id else None
    return booking.model_dump() | {"start_at": as_utc(booking.start_at), "end_at": as_utc(booking.end_at),
                                   "authorization": authorizations.brief(session, auth)}


def get_or_404(session: Session, who: Principal, booking_id: int) -> Booking:
    booking = repository.get(session, who.clinic_id, booking_id)
    if booking is None:
        raise NotFound(f"booking {booking_id} not found")
    return booking


def phase_of(phases: list[CoursePhase], sequence: int) -> CoursePhase:
    """The phase that session ``sequence`` (1-based) belongs to."""
    bound = 0
    for phase in phases:
        bound += phase.planned_sessions
        if sequence <= bound:
            return phase
    raise Unprocessable("sequence", f"the course plans {bound} sessions; there is no session {sequence}")


def open_course(session: Session, who: Principal, course_id: int) -> Course:
    """A course of the caller's clinic that may take bookings."""
    course = courses.get_or_404(session, who, course_id)
    if course.status not in BOOKABLE_COURSE:
        raise Conflict(f"course_id: course {course_id} is {course.status}; only planned or active courses"
                       " take bookings", code="course_not_bookable")
    return course


def book(session: Session, who: Principal, data: BookingCreate, now: datetime) -> Booking:
    """Book one session after checking chair, device, technician shift, calendar, rhythm and authorization."""
    course = open_course(session, who, data.course_id)
    start = as_utc(data.start_at)
    if start < now:
        raise Unprocessable("start_at", f"{start.isoformat()} is in the past")
    end = start + slot(session, course)
    device = _chair_device(session, who, data.chair_id, course)
    cal = calendar.clinic_calendar(session, who.clinic_id, start=start.date() - timedelta(days=1))
    _check_open(cal, start, end)
    _check_technician(session, who.clinic_id, data.technician_id, cal, start, end)
    phases = course_repo.phases(session, course.id or 0)
    sequence = data.sequence or _next_sequence(session, course)
    phase = phase_of(phases, sequence)
    _check_sequence_free(session, course, sequence)
    _check_daily_rhythm(session, course, cal, start)
    auth = authorizations.for_booking(session, course, cal.local_date(start))
    booking = Booking(clinic_id=who.clinic_id, course_id=course.id or 0, patient_id=course.patient_id,
                      chair_id=data.chair_id, device_id=device.id or 0, technician_id=data.technician_id,
                      authorization_id=auth.id if auth else None, start_at=start, end_at=end,
                      phase_name=phase.name, phase_kind=phase.kind, sequence=sequence, created_by=who.user_id,
                      created_at=now, updated_at=now)
    return insert(session, who.actor, booking, now)


def insert(session: Session, actor: Actor, booking: Booking, now: datetime, *, precheck: bool = True) -> Booking:
    """Insert a booking if none of its resources is held over its time; 409 naming the one that is.

    ``precheck=False`` (sessions the planner placed in this very transaction) leaves the check to the database,
    whose refusal still becomes the same 409.
    """
    start, end = as_utc(booking.start_at), as_utc(booking.end_at)
    for resource in RESOURCES if precheck else ():
        clash = repository.overlapping(session, resource, getattr(booking, f"{resource}_id"), start, end)
        if clash is not None:
            raise _conflict(resource, getattr(booking, f"{resource}_id"), clash)
    session.add(booking)
    try:
        session.flush()
    except IntegrityError as exc:
        found = _CONSTRAINT.search(str(exc.orig))
        if found is None:
            raise
        resource = found.group(1)
        raise _conflict(resource, getattr(booking, f"{resource}_id"), None) from None
    audit.record(session, actor, at=now, action="create", entity=ENTITY, entity_id=booking.id,
                 patient_id=booking.patient_id, new=booking.model_dump(exclude={"created_at", "updated_at"}))
    return booking


def insert_many(session: Session, actor: Actor, rows: list[Booking], now: datetime) -> list[Booking]:
    """Insert sessions the planner placed in this transaction in one statement, the database checking overlaps,
    then audit each in order. When the database refuses one, the rows go in one by one instead, so the 409 names
    the same booking and resource as ``insert`` would. The rows come back with their ids, outside the ORM's unit
    of work (one multi-row INSERT, where the ORM would send one statement per row on SQLite)."""
    if not rows:
        return []
    copies = [row.model_dump(exclude={"id"}) for row in rows]
    try:
        with session.begin_nested():
            ids = repository.insert_rows(session, copies)
    except IntegrityError as exc:
        if _CONSTRAINT.search(str(exc.orig)) is None:
            raise
        return [insert(session, actor, Booking(**values), now, precheck=False) for values in copies]
    for row in rows:  # a patient holds one booking per start (the database's own constraint)
        row.id = ids[(row.patient_id, as_utc(row.start_at))]
    audit.record_many(session, actor, at=now, action="create", entity=ENTITY, entries=[
        (booking.id, booking.patient_id, booking.model_dump(exclude={"created_at", "updated_at"})) for booking in rows])
    return rows


def _conflict(resource: str, resource_id: int, clash: Booking | None) -> Conflict:
    when = f" {as_utc(clash.start_at):%Y-%m-%d %H:%M}-{as_utc(clash.end_at):%H:%M} UTC (booking {clash.id})" \
        if clash is not None else " by a booking committed at the same moment"
    return Conflict(f"{resource}_id: {resource} {resource_id} is already booked{when}", code="double_booking",
                    details={"resource": resource, "id": resource_id,
                             "conflicting_booking": clash.id if clash is not None else None})


def _chair_device(session: Session, who: Principal, chair_id: int, course: Course) -> Device:
    chair = chairs.get_chair(session, who.clinic_id, chair_id)
    if chair is None:
        raise NotFound(f"chair {chair_id} not found")
    device = session.get(Device, chair.device_id) if chair.device_id else None
    if not chair.active or device is None or not device.active:
        raise Conflict(f"chair_id: chair {chair_id} is inactive or has no active device", code="chair_unavailable")
    why = capabilities.why_not(device.model, courses.protocol_of(course.protocol_id), chair.mode)
    if why is not None:
        raise Conflict(f"chair_id: chair {chair_id} cannot run {course.protocol_id}: {why}", code="capability")
    return device


def _check_open(cal: calendar.ClinicCalendar, start: datetime, end: datetime) -> None:
    day = cal.local_date(start)
    opening = cal.opening_utc(day)
    if opening is None:
        raise Conflict(f"start_at: {cal.closed_reason(day)}", code="clinic_closed")
    if start < opening[0] or end > opening[1]:
        raise Conflict(f"start_at: the slot {cal.local_time(start):%H:%M}-{cal.local_time(end):%H:%M} is outside"
                       f" opening hours on {day}", code="clinic_closed")


def _check_technician(session: Session, clinic_id: int, technician_id: int, cal: calendar.ClinicCalendar,
                      start: datetime, end: datetime) -> None:
    if calendar_repo.technician(session, clinic_id, technician_id) is None:
        raise NotFound(f"technician {technician_id} not found")
    day = cal.local_date(start)
    technician = next((t for t in calendar.planner_technicians(session, clinic_id, since=day)
                       if t.id == str(technician_id)), None)
    if technician is not None and day in technician.days_off:
        raise Conflict(f"technician_id: technician {technician_id} is off on {day}", code="technician_day_off")
    local_end = cal.local_time(end)
    if technician is None or not technician.covers(cal.local_date(start), cal.local_time(start), local_end):
        raise Conflict(f"technician_id: technician {technician_id} has no shift covering"
                       f" {cal.local_time(start):%H:%M}-{local_end:%H:%M} on {cal.local_date(start)}",
                       code="technician_shift")


def _next_sequence(session: Session, course: Course) -> int:
    held = {b.sequence for b in course_repo.bookings_of(session, course.id or 0) if b.status not in
            (S.cancelled.value, S.no_show.value)}
    return next(n for n in range(1, len(held) + 2) if n not in held)


def _check_sequence_free(session: Session, course: Course, sequence: int) -> None:
    for b in course_repo.bookings_of(session, course.id or 0):
        if b.sequence == sequence and b.status not in (S.cancelled.value, S.no_show.value, S.aborted.value):
            raise Conflict(f"sequence: session {sequence} of course {course.id} is already booked (booking {b.id})",
                           code="sequence_taken")


def _check_daily_rhythm(session: Session, course: Course, cal: calendar.ClinicCalendar, start: datetime) -> None:
    """At most the protocol's sessions a day, and its minimum interval between starts (accelerated iTBS)."""
    protocol = courses.protocol_of(course.protocol_id)
    day = cal.local_date(start)
    same_day = [as_utc(b.start_at) for b in course_repo.bookings_of(session, course.id or 0)
                if b.status not in (S.cancelled.value, S.no_show.value) and cal.local_date(as_utc(b.start_at)) == day]
    if len(same_day) >= protocol.sessions_per_day:
        raise Conflict(f"start_at: already {len(same_day)} session(s) on {day}; protocol {protocol.id} allows"
                       f" {protocol.sessions_per_day} a day", code="daily_limit")
    # The pause runs from the end of one session to the start of the next (protocol_rules.min_start_gap).
    gap = protocol_rules.min_start_gap(protocol)
    near = [s for s in same_day if abs(s - start) < gap]
    if near:
        raise Conflict(f"start_at: starts must be {gap.total_seconds() / 60:.0f} min apart (a pause of"
                       f" {protocol.min_interval_minutes} min after each session); another session starts"
                       f" at {cal.local_time(near[0]):%H:%M}", code="interval")


def transition(session: Session, actor: Actor, booking: Booking, status: BookingStatus, reason: str | None,
               now: datetime) -> Booking:
    """Move a booking to a new status (the session code calls this for in_progress/completed/...)."""
    current = BookingStatus(booking.status)
    if status not in TRANSITIONS[current]:
        allowed = sorted(s.value for s in TRANSITIONS[current]) or ["none"]
        raise Conflict(f"status: a {current.value} booking cannot become {status.value}; allowed: {allowed}",
                       code="bad_transition")
    booking.status, booking.status_reason = status.value, reason
    booking.version += 1
    booking.updated_at = now
    session.add(booking)
    session.flush()
    audit.record(session, actor, at=now, action="status", entity=ENTITY, entity_id=booking.id,
                 patient_id=booking.patient_id, old={"status": current.value},
                 new={"status": status.value, "version": booking.version}, reason=reason)
    return booking


def chair_day(session: Session, who: Principal, chair_id: int, day: date, now: datetime) -> dict[str, Any]:
    """A chair's bookings on one local date, with patient, course, session n of N and authorization left."""
    chair = chairs.get_chair(session, who.clinic_id, chair_id)
    if chair is None:
        raise NotFound(f"chair {chair_id} not found")
    cal = calendar.clinic_calendar(session, who.clinic_id, start=day)
    start = cal.to_utc(day, datetime.min.time())
    rows = repository.chair_day(session, who.clinic_id, chair_id, start, cal.to_utc(day + timedelta(days=1),
                                                                                     datetime.min.time()))
    planned = course_repo.planned_sessions(session, [course.id or 0 for _, _, course in rows])
    entries = []
    for booking, patient, course in rows:
        total = planned[course.id or 0]
        entries.append(public(session, booking) | {
            "booking_id": booking.id, "patient_name": f"{patient.given_name} {patient.family_name}",
            "mrn": patient.mrn, "protocol_id": course.protocol_id, "session": f"{booking.sequence} of {total}",
            "planned_sessions": total})
    audit.record(session, who.actor, at=now, action="read", entity="chair_schedule", entity_id=chair_id,
                 new={"date": day, "bookings": [e["booking_id"] for e in entries]})
    return {"chair_id": chair_id, "chair_name": chair.name, "date": day, "timezone": cal.timezone,
            "entries": entries}


def listing(session: Session, who: Principal, day: date | None, status: BookingStatus | None,
            course_id: int | None, now: datetime) -> list[Booking]:
    """Bookings of one local date, one course, or the next ones from now; the listing is audited."""
    if course_id is not None:
        courses.get_or_404(session, who, course_id)
        rows = course_repo.bookings_of(session, course_id)
        rows = [b for b in rows if status is None or b.status == status.value]
    else:
        cal = calendar.clinic_calendar(session, who.clinic_id)
        start = cal.to_utc(day, datetime.min.time()) if day else now
        end = cal.to_utc(day + timedelta(days=1), datetime.min.time()) if day else None
        rows = repository.in_clinic(session, who.clinic_id, start=start, end=end,
                                    status=status.value if status else None, limit=500)
    audit.record(session, who.actor, at=now, action="list", entity=ENTITY,
                 new={"date": day, "course_id": course_id, "returned": [b.id for b in rows]})
    return rows


def read(session: Session, who: Principal, booking_id: int, now: datetime) -> Booking:
    """One booking of the caller's clinic; the read is audited."""
    booking = get_or_404(session, who, booking_id)
    audit.record(session, who.actor, at=now, action="read", entity=ENTITY, entity_id=booking.id,
                 patient_id=booking.patient_id)
    return booking
