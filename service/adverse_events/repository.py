"""Every query for adverse events and reporting tasks (always clinic-scoped)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.adverse_events import AdverseEvent, ReportingTask


def get(session: Session, clinic_id: int, event_id: int) -> AdverseEvent | None:
    return session.exec(
        select(AdverseEvent).where(AdverseEvent.id == event_id, AdverseEvent.clinic_id == clinic_id)
    ).first()


def for_patient(session: Session, clinic_id: int, patient_id: int, course_id: int | None = None) -> list[AdverseEvent]:
    query = select(AdverseEvent).where(AdverseEvent.clinic_id == clinic_id, AdverseEvent.patient_id == patient_id)
    if course_id is not None:
        query = query.where(AdverseEvent.course_id == course_id)
    return list(session.exec(query.order_by(col(AdverseEvent.onset_at), col(AdverseEvent.id))).all())


def tasks_for(session: Session, event_ids: list[int]) -> list[ReportingTask]:
    if not event_ids:
        return []
    return list(session.exec(
        select(ReportingTask).where(col(ReportingTask.adverse_event_id).in_(event_ids)).order_by(col(ReportingTask.id))
    ).all())


def task(session: Session, clinic_id: int, task_id: int) -> ReportingTask | None:
    return session.exec(
        select(ReportingTask).where(ReportingTask.id == task_id, ReportingTask.clinic_id == clinic_id)
    ).first()


def tasks(session: Session, clinic_id: int, status: str | None) -> list[ReportingTask]:
    query = select(ReportingTask).where(ReportingTask.clinic_id == clinic_id)
    if status is not None:
        query = query.where(ReportingTask.status == status)
    return list(session.exec(query.order_by(col(ReportingTask.due_on), col(ReportingTask.id))).all())
