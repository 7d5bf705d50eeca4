"""When a technician is off: hand each of their bookings that day to a colleague on shift, or flag it.

A day off is recorded in the calendar; this is the booking side of it. A booking moves only to a
technician whose shift covers the whole slot, who is not off that day and holds nothing overlapping it;
the first such technician (by id) takes it, so the outcome is deterministic. A booking nobody can take
stays with its technician and raises a review flag for the front desk: it is never cancelled silently.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.audit import service as audit
from service.auth.principal import Principal
from service.bookings import repository
from service.calendar import service as calendar
from service.core.clock import as_utc
from service.flags.service import raise_flag
from service.models.bookings import Booking, BookingStatus
from service.models.calendar import TechnicianDayOff
from service.models.flags import FlagKind

MOVABLE = (BookingStatus.booked.value, BookingStatus.checked_in.value)


def cover_day_off(session: Session, who: Principal, off: TechnicianDayOff, now: datetime) -> dict[str, Any]:
    """Move the technician's not-yet-started bookings on the day off; returns what moved and what could not."""
    cal = calendar.clinic_calendar(session, off.clinic_id, start=off.day)
    start, end = cal.to_utc(off.day, time.min), cal.to_utc(off.day + timedelta(days=1), time.min)
    colleagues = [t for t in calendar.planner_technicians(session, off.clinic_id, since=off.day)
                  if t.id != str(off.user_id)]
    moved, unresolved = [], []
    for booking in repository.of_technician(session, off.clinic_id, off.user_id, start, end, MOVABLE):
        if as_utc(booking.start_at) < now:
            continue  # already under way or past: the day's own record says who was there
        b_start, b_end = as_utc(booking.start_at), as_utc(booking.end_at)
        taker = next((int(t.id) for t in colleagues
                      if t.covers(off.day, cal.local_time(b_start), cal.local_time(b_end))
                      and _reassign(session, booking, int(t.id), now)), None)
        if taker is not None:
            audit.record(session, who.actor, at=now, action="reassign", entity="booking", entity_id=booking.id,
                         patient_id=booking.patient_id, old={"technician_id": off.user_id},
                         new={"technician_id": taker, "version": booking.version},
                         reason=f"technician {off.user_id} off on {off.day}: {off.reason}")
            moved.append({"booking_id": booking.id, "start_at": b_start, "technician_id": taker})
            continue
        why = f"no other technician on shift is free {cal.local_time(b_start):%H:%M}-{cal.local_time(b_end):%H:%M}"
        raise_flag(session, clinic_id=off.clinic_id, key=f"tech_off:{off.id}:{booking.id}",
                   kind=FlagKind.technician_off, booking_id=booking.id, course_id=booking.course_id,
                   patient_id=booking.patient_id, now=now, actor=who.actor,
                   message=f"technician {off.user_id} is off on {off.day} and {why}: reassign or move booking"
                           f" {booking.id}")
        unresolved.append({"booking_id": booking.id, "start_at": b_start, "reason": why})
    return {"reassigned": moved, "unresolved": unresolved}


def _reassign(session: Session, booking: Booking, technician_id: int, now: datetime) -> bool:
    """Give the booking to this technician if they hold nothing overlapping it (the database has the last word)."""
    if repository.overlapping(session, "technician", technician_id, as_utc(booking.start_at),
                              as_utc(booking.end_at)) is not None:
        return False
    try:
        with session.begin_nested():  # PostgreSQL's exclusion constraint may still refuse a racing booking
            booking.technician_id = technician_id
            booking.version += 1
            booking.updated_at = now
            session.add(booking)
    except IntegrityError:
        session.refresh(booking)  # the savepoint rolled back: read the row as it stands again
        return False
    return True
