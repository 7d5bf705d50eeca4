"""When a booking may be checked in: on its own clinic day, and in the course's order.

A booking for another day belongs to that day's list; checking in session 7 while session 6 is still
pending would count the course out of order (and leave session 6 to be delivered after it). A
psychiatrist may check one in all the same, with a reason; the session keeps it and the review queue shows it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.core.clock import as_utc
from service.flags.service import raise_flag
from service.models.bookings import PENDING, Booking
from service.models.flags import FlagKind
from service.models.sessions import TreatmentSession
from service.records import clinic_day


def out_of_turn(session: Session, booking: Booking, now: datetime) -> list[str]:
    """Why checking this booking in now is out of day or sequence (empty when it is not)."""
    reasons = []
    day = clinic_day.local_now(session, booking.clinic_id, as_utc(booking.start_at)).date()
    today = clinic_day.clinic_today(session, booking.clinic_id, now)
    if day != today:
        reasons.append(f"it is booked for {day}, and today is {today}")
    earlier = session.exec(select(Booking).where(
        Booking.course_id == booking.course_id, Booking.id != booking.id, Booking.sequence < booking.sequence,
        col(Booking.status).in_(PENDING)).order_by(col(Booking.sequence))).all()
    if earlier:
        listed = ", ".join(f"session {b.sequence} (booking {b.id}, {b.status})" for b in earlier[:5])
        reasons.append(f"the course's earlier {listed} {'is' if len(earlier) == 1 else 'are'} still pending")
    return reasons


def flag_override(session: Session, ts: TreatmentSession, overrode: list[str], reason: str, now: datetime) -> None:
    """The review queue lists every check-in a psychiatrist allowed out of turn."""
    raise_flag(session, clinic_id=ts.clinic_id, key=f"check_in_override:{ts.id}", kind=FlagKind.check_in_override,
               message=f"session {ts.id} was checked in out of turn ({'; '.join(overrode) or 'none'}): {reason}",
               now=now, patient_id=ts.patient_id, course_id=ts.course_id, booking_id=ts.booking_id)
