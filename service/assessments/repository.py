"""Every query for assessments and suicide-risk alerts (always clinic-scoped)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from service.models.assessments import Assessment, SuicideAlert
from service.models.sessions import TreatmentSession


def get(session: Session, clinic_id: int, assessment_id: int) -> Assessment | None:
    return session.exec(
        select(Assessment).where(Assessment.id == assessment_id, Assessment.clinic_id == clinic_id)
    ).first()


def for_patient(
    session: Session, clinic_id: int, patient_id: int, *, instrument: str | None = None, course_id: int | None = None
) -> list[Assessment]:
    query = select(Assessment).where(Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id)
    if instrument is not None:
        query = query.where(Assessment.instrument == instrument)
    if course_id is not None:
        query = query.where(Assessment.course_id == course_id)
    return list(session.exec(query.order_by(col(Assessment.administered_at), col(Assessment.id))).all())


def first_of_course(
    session: Session, clinic_id: int, patient_id: int, course_id: int, instrument: str, before: datetime,
    since: datetime | None = None,
) -> Assessment | None:
    """The course's first administration of ``instrument`` in ``[since, before]``."""
    query = select(Assessment).where(
        Assessment.clinic_id == clinic_id, Assessment.patient_id == patient_id,
        Assessment.course_id == course_id, Assessment.instrument == instrument,
        Assessment.administered_at <= before,
    )
    if since is not None:
        query = query.where(Assessment.administered_at >= since)
    return session.exec(query.order_by(col(Assessment.administered_at), col(Assessment.id))).first()


def first_session_start(session: Session, clinic_id: int, course_id: int) -> datetime | None:
    """When the course's first treatment session began delivering (None before any has)."""
    started: datetime | None = session.exec(
        select(func.min(TreatmentSession.started_at)).where(
            TreatmentSession.clinic_id == clinic_id, TreatmentSession.course_id == course_id)
    ).one()
    return started


def alerts_for_assessments(session: Session, assessment_ids: list[int]) -> list[SuicideAlert]:
    if not assessment_ids:
        return []
    return list(session.exec(
        select(SuicideAlert).where(col(SuicideAlert.assessment_id).in_(assessment_ids)).order_by(col(SuicideAlert.id))
    ).all())


def alert(session: Session, clinic_id: int, alert_id: int) -> SuicideAlert | None:
    return session.exec(
        select(SuicideAlert).where(SuicideAlert.id == alert_id, SuicideAlert.clinic_id == clinic_id)
    ).first()


def alerts(
    session: Session, clinic_id: int, *, status: str | None = None, patient_id: int | None = None
) -> list[SuicideAlert]:
    query = select(SuicideAlert).where(SuicideAlert.clinic_id == clinic_id)
    if status is not None:
        query = query.where(SuicideAlert.status == status)
    if patient_id is not None:
        query = query.where(SuicideAlert.patient_id == patient_id)
    return list(session.exec(query.order_by(col(SuicideAlert.raised_at), col(SuicideAlert.id))).all())
