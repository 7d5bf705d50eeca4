"""Every query for payer authorizations (scoped to a clinic)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.models.authorizations import Authorization, AuthorizationStatus, AuthorizationUnit
from service.models.bookings import DELIVERED, PENDING, Booking


def get(session: Session, clinic_id: int, authorization_id: int) -> Authorization | None:
    return session.exec(
        select(Authorization).where(Authorization.id == authorization_id, Authorization.clinic_id == clinic_id)
    ).first()


def by_number(session: Session, clinic_id: int, payer: str, number: str) -> Authorization | None:
    return session.exec(select(Authorization).where(
        Authorization.clinic_id == clinic_id, Authorization.payer == payer, Authorization.number == number)).first()


def of_course(session: Session, course_id: int, *, active_only: bool = False) -> list[Authorization]:
    query = select(Authorization).where(Authorization.course_id == course_id)
    if active_only:
        query = query.where(Authorization.status == AuthorizationStatus.active.value)
    return list(session.exec(query.order_by(col(Authorization.start_date), col(Authorization.id))).all())


def in_clinic(session: Session, clinic_id: int, *, active_only: bool) -> list[Authorization]:
    query = select(Authorization).where(Authorization.clinic_id == clinic_id)
    if active_only:
        query = query.where(Authorization.status == AuthorizationStatus.active.value)
    return list(session.exec(query.order_by(col(Authorization.id))).all())


def units(session: Session, authorization_id: int) -> list[AuthorizationUnit]:
    return list(session.exec(select(AuthorizationUnit).where(AuthorizationUnit.authorization_id == authorization_id)
                             .order_by(col(AuthorizationUnit.cpt))).all())


def all_active(session: Session) -> list[Authorization]:
    """Every active authorization of every clinic (the jobs' input)."""
    return list(session.exec(select(Authorization).where(
        Authorization.status == AuthorizationStatus.active.value).order_by(col(Authorization.id))).all())


def booking_counts(session: Session, authorization_id: int) -> tuple[int, int]:
    """Sessions delivered (completed) and still pending (booked, checked in, in progress) on an authorization."""
    rows = session.exec(
        select(Booking.status, func.count()).where(Booking.authorization_id == authorization_id)
        .group_by(col(Booking.status))
    ).all()
    counts = {status: int(n) for status, n in rows}
    # Delivered is completed or interrupted: the one billing rule (docs/billing.md).
    return sum(counts.get(s, 0) for s in DELIVERED), sum(counts.get(s, 0) for s in PENDING)
