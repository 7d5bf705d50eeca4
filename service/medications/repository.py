"""Every query for medication trials, psychotherapy trials and medication changes (always clinic-scoped)."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, col, select

from service.models.medications import MedicationChange, MedicationTrial, PsychotherapyTrial

Row = TypeVar("Row", MedicationTrial, PsychotherapyTrial, MedicationChange)


def get(session: Session, model: type[Row], clinic_id: int, row_id: int) -> Row | None:
    return session.exec(select(model).where(model.id == row_id, model.clinic_id == clinic_id)).first()


def for_patient(
    session: Session, model: type[Row], clinic_id: int, patient_id: int, *, include_void: bool = True
) -> list[Row]:
    query = select(model).where(model.clinic_id == clinic_id, model.patient_id == patient_id)
    if not include_void:
        query = query.where(col(model.entered_in_error).is_(False))
    order = model.changed_on if model is MedicationChange else model.start_date  # type: ignore[attr-defined]
    return list(session.exec(query.order_by(col(order), col(model.id))).all())
