"""Facts the gate reads from the scheduling tables: payer authorization and delivered sessions.

Read straight from the committed models (Authorization, AuthorizationUnit, Booking) so the gate does not
depend on the scheduling services' internals. A completed, interrupted or in-progress booking is a session
start for the spacing rules, at the moment its session really started (a booking may be checked in on another
day than it was booked for), at its booked time only when it has no session record; completed bookings use up
authorized units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.core.clock import as_utc
from service.models.authorizations import Authorization, AuthorizationStatus, AuthorizationUnit, Cpt
from service.models.bookings import DELIVERED, Booking, BookingStatus
from service.models.courses import Course
from service.models.sessions import TreatmentSession
from service.rules.gates import AuthorizationFacts

STARTED = (*DELIVERED, BookingStatus.in_progress.value)
SESSION_CPTS = (Cpt.initial.value, Cpt.session.value)


@dataclass(frozen=True)
class SchedulingFacts:
    """What the course's bookings and authorization say (clinic-local times)."""

    authorization: AuthorizationFacts | None
    previous_session_starts: tuple[datetime, ...]


def _authorization(session: Session, course: Course, today: date) -> AuthorizationFacts | None:
    """The active authorization covering today, else the nearest one (so the gate can say why it does not)."""
    auths = list(session.exec(select(Authorization).where(
        Authorization.course_id == course.id, Authorization.status == AuthorizationStatus.active.value,
    ).order_by(col(Authorization.start_date))).all())
    if not auths:
        return None
    auth = next((a for a in auths if a.start_date <= today <= a.end_date), None)
    auth = auth or min(auths, key=lambda a: min(abs((a.start_date - today).days), abs((a.end_date - today).days)))
    units = session.exec(select(func.coalesce(func.sum(AuthorizationUnit.units), 0)).where(
        AuthorizationUnit.authorization_id == auth.id, col(AuthorizationUnit.cpt).in_(SESSION_CPTS))).one()
    used = session.exec(select(func.count()).select_from(Booking).where(
        Booking.authorization_id == auth.id, col(Booking.status).in_(DELIVERED))).one()
    return AuthorizationFacts(units_authorized=int(units), units_used=int(used), start_date=auth.start_date,
                              end_date=auth.end_date, reference=f"{auth.payer} {auth.number}")


def read(session: Session, course: Course, today: date, tz: ZoneInfo) -> SchedulingFacts:
    """The course's authorization and session history from the booking tables."""
    started = session.exec(
        select(Booking.start_at, TreatmentSession.started_at)
        .outerjoin(TreatmentSession, col(TreatmentSession.booking_id) == Booking.id)
        .where(Booking.course_id == course.id, col(Booking.status).in_(STARTED))).all()
    starts = sorted(as_utc(actual or booked) for booked, actual in started)
    return SchedulingFacts(
        authorization=_authorization(session, course, today),
        previous_session_starts=tuple(at.astimezone(tz) for at in starts),
    )
