"""Every query for eligibility profiles (always clinic-scoped)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.courses import Course
from service.models.eligibility import EligibilityProfile


def profile(session: Session, clinic_id: int, patient_id: int) -> EligibilityProfile | None:
    return session.exec(select(EligibilityProfile).where(
        EligibilityProfile.clinic_id == clinic_id, EligibilityProfile.patient_id == patient_id)).first()


def courses(session: Session, clinic_id: int, patient_id: int) -> list[Course]:
    return list(session.exec(select(Course).where(Course.clinic_id == clinic_id, Course.patient_id == patient_id)
                             .order_by(col(Course.ordered_at), col(Course.id))).all())
