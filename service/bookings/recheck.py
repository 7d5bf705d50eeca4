"""After a chair's mode, device or active flag changes: its future bookings it can no longer deliver are flagged.

The booking stays (cancelling or moving it is a person's decision, with the patient); the review queue
says which booking, why, and what to do, so the clinic finds out now rather than with the patient in
the chair. Start refuses such a booking with the same reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.chairs import capabilities
from service.flags.service import raise_flag
from service.models.bookings import Booking, BookingStatus
from service.models.chairs import Chair, Device
from service.models.courses import Course
from service.models.flags import FlagKind
from service.rules import protocols


def why_chair_cannot(session: Session, chair: Chair, protocol_id: str) -> str | None:
    """Why this chair, as it stands now, cannot deliver the protocol (None when it can)."""
    device = session.get(Device, chair.device_id) if chair.device_id else None
    if not chair.active or device is None or not device.active:
        return f"chair {chair.id} is inactive or has no active device"
    return capabilities.why_not(device.model, protocols.get(protocol_id), chair.mode)


def future_bookings(session: Session, chair: Chair, now: datetime) -> list[Booking]:
    """Flag the chair's bookings from now on that it cannot deliver any more; returns them."""
    rows = session.exec(select(Booking).where(
        Booking.chair_id == chair.id, Booking.status == BookingStatus.booked.value,
        col(Booking.end_at) > now).order_by(col(Booking.start_at))).all()
    flagged = []
    for booking in rows:
        course = session.get(Course, booking.course_id)
        if course is None:
            continue
        why = why_chair_cannot(session, chair, course.protocol_id)
        if why is None:
            continue
        flagged.append(booking)
        raise_flag(session, clinic_id=booking.clinic_id,
                   key=f"capability:{booking.id}:{chair.mode}:{chair.device_id}:{int(chair.active)}",
                   kind=FlagKind.capability, due_at=booking.start_at, now=now, patient_id=booking.patient_id,
                   course_id=booking.course_id, booking_id=booking.id,
                   message=f"booking {booking.id} ({course.protocol_id}) can no longer be delivered at chair "
                           f"{chair.name}: {why}. Move it to a chair that can, or change the chair back")
    return flagged
