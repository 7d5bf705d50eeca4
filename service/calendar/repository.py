"""Every query for the clinic calendar (scoped to a clinic)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from service.models.calendar import ClinicClosure, ClinicSchedule, TechnicianDayOff, TechnicianShift
from service.models.users import Role, User


def schedule(session: Session, clinic_id: int) -> ClinicSchedule | None:
    return session.get(ClinicSchedule, clinic_id)


def closures(session: Session, clinic_id: int, *, start: date | None = None, end: date | None = None,
             active_only: bool = True) -> list[ClinicClosure]:
    query = select(ClinicClosure).where(ClinicClosure.clinic_id == clinic_id)
    if active_only:
        query = query.where(col(ClinicClosure.withdrawn_at).is_(None))
    if start is not None:
        query = query.where(ClinicClosure.day >= start)
    if end is not None:
        query = query.where(ClinicClosure.day <= end)
    return list(session.exec(query.order_by(col(ClinicClosure.day), col(ClinicClosure.id))).all())


def closure(session: Session, clinic_id: int, closure_id: int) -> ClinicClosure | None:
    return session.exec(
        select(ClinicClosure).where(ClinicClosure.id == closure_id, ClinicClosure.clinic_id == clinic_id)
    ).first()


def shifts(session: Session, clinic_id: int, user_id: int | None = None) -> list[TechnicianShift]:
    query = select(TechnicianShift).where(TechnicianShift.clinic_id == clinic_id)
    if user_id is not None:
        query = query.where(TechnicianShift.user_id == user_id)
    return list(session.exec(query.order_by(col(TechnicianShift.user_id), col(TechnicianShift.weekday),
                                            col(TechnicianShift.start))).all())


def technicians(session: Session, clinic_id: int) -> list[User]:
    """Active technicians of the clinic."""
    return list(session.exec(
        select(User).where(User.clinic_id == clinic_id, User.role == Role.technician.value, col(User.active))
        .order_by(col(User.id))
    ).all())


def technician(session: Session, clinic_id: int, user_id: int) -> User | None:
    return session.exec(
        select(User).where(User.id == user_id, User.clinic_id == clinic_id, User.role == Role.technician.value)
    ).first()


def days_off(session: Session, clinic_id: int, *, user_id: int | None = None, start: date | None = None,
             end: date | None = None, active_only: bool = True) -> list[TechnicianDayOff]:
    query = select(TechnicianDayOff).where(TechnicianDayOff.clinic_id == clinic_id)
    if active_only:
        query = query.where(col(TechnicianDayOff.withdrawn_at).is_(None))
    if user_id is not None:
        query = query.where(TechnicianDayOff.user_id == user_id)
    if start is not None:
        query = query.where(TechnicianDayOff.day >= start)
    if end is not None:
        query = query.where(TechnicianDayOff.day <= end)
    return list(session.exec(query.order_by(col(TechnicianDayOff.day), col(TechnicianDayOff.id))).all())


def day_off(session: Session, clinic_id: int, day_off_id: int) -> TechnicianDayOff | None:
    return session.exec(
        select(TechnicianDayOff).where(TechnicianDayOff.id == day_off_id, TechnicianDayOff.clinic_id == clinic_id)
    ).first()
