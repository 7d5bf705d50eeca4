"""Every query for screenings and clearances (always clinic-scoped)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.screenings import Screening, ScreeningCheck, ScreeningClearance


def get(session: Session, clinic_id: int, screening_id: int) -> Screening | None:
    return session.exec(select(Screening).where(Screening.id == screening_id, Screening.clinic_id == clinic_id)).first()


def for_patient(session: Session, clinic_id: int, patient_id: int, course_id: int | None = None) -> list[Screening]:
    query = select(Screening).where(Screening.clinic_id == clinic_id, Screening.patient_id == patient_id)
    if course_id is not None:
        query = query.where(Screening.course_id == course_id)
    return list(session.exec(query.order_by(col(Screening.completed_on), col(Screening.id))).all())


def latest_for_course(session: Session, clinic_id: int, course_id: int) -> Screening | None:
    """The course's newest screen: it supersedes the earlier ones."""
    return session.exec(
        select(Screening).where(Screening.clinic_id == clinic_id, Screening.course_id == course_id)
        .order_by(col(Screening.completed_on).desc(), col(Screening.id).desc())
    ).first()


def clearances(session: Session, screening_id: int) -> list[ScreeningClearance]:
    return list(session.exec(
        select(ScreeningClearance).where(ScreeningClearance.screening_id == screening_id)
        .order_by(col(ScreeningClearance.id))
    ).all())


def latest_for_patient(session: Session, clinic_id: int, patient_id: int) -> Screening | None:
    """The patient's newest screen of any course."""
    return session.exec(
        select(Screening).where(Screening.clinic_id == clinic_id, Screening.patient_id == patient_id)
        .order_by(col(Screening.completed_on).desc(), col(Screening.id).desc())
    ).first()


def checks(session: Session, screening_id: int) -> list[ScreeningCheck]:
    return list(session.exec(
        select(ScreeningCheck).where(ScreeningCheck.screening_id == screening_id).order_by(col(ScreeningCheck.id))
    ).all())
