"""Patient rules: unique MRN per clinic, no future birth dates, amendments with a reason, all audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.audit import service as audit
from service.auth.principal import Principal
from service.core.errors import Conflict, NotFound, Unprocessable
from service.models.patients import Patient
from service.patients import repository
from service.patients.schemas import PatientAmend, PatientCreate

ENTITY = "patient"


def _snapshot(patient: Patient) -> dict[str, Any]:
    return patient.model_dump(exclude={"created_at", "updated_at"})


def _check_birth_date(fields: dict[str, Any], now: datetime) -> None:
    dob = fields.get("date_of_birth")
    if dob is not None and dob > now.date():
        raise Unprocessable("date_of_birth", f"{dob.isoformat()} is in the future")


def create(session: Session, who: Principal, data: PatientCreate, now: datetime) -> Patient:
    """Register a patient in the caller's clinic."""
    fields = data.model_dump()
    _check_birth_date(fields, now)
    if repository.by_mrn(session, who.clinic_id, data.mrn) is not None:
        raise Conflict(f"mrn: a patient with MRN '{data.mrn}' already exists in this clinic", code="duplicate_mrn")
    patient = Patient(**fields, clinic_id=who.clinic_id, created_at=now, updated_at=now)
    session.add(patient)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity=ENTITY, entity_id=patient.id,
                 patient_id=patient.id, new=_snapshot(patient))
    return patient


def read(session: Session, who: Principal, patient_id: int, now: datetime, *, purpose: str = "read") -> Patient:
    """A patient of the caller's clinic (404 otherwise); every read is audited."""
    patient = get_or_404(session, who, patient_id)
    audit.record(session, who.actor, at=now, action=purpose, entity=ENTITY, entity_id=patient.id,
                 patient_id=patient.id)
    return patient


def get_or_404(session: Session, who: Principal, patient_id: int) -> Patient:
    """The patient without an audit row: for services that audit their own action on the patient."""
    patient = repository.get(session, who.clinic_id, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found")
    return patient


def search(
    session: Session, who: Principal, now: datetime, *, q: str | None, limit: int, offset: int
) -> tuple[list[Patient], int]:
    """List the clinic's patients; the listing itself is audited (it shows names)."""
    rows, total = repository.search(session, who.clinic_id, q=q, limit=limit, offset=offset)
    audit.record(session, who.actor, at=now, action="list", entity=ENTITY,
                 new={"q": q, "returned": [p.id for p in rows]})
    return rows, total


def amend(session: Session, who: Principal, patient_id: int, data: PatientAmend, now: datetime) -> Patient:
    """Change some fields; the old values and the reason go to the audit trail; the version goes up."""
    patient = get_or_404(session, who, patient_id)
    changes = data.model_dump(exclude_unset=True, exclude={"reason"})
    _check_birth_date(changes, now)
    before = _snapshot(patient)
    for name, value in changes.items():
        setattr(patient, name, value)
    old, new = audit.changed_fields(before, _snapshot(patient))
    if not new:
        raise Unprocessable("body", "the amendment changes nothing: every value equals the current one")
    patient.version += 1
    patient.updated_at = now
    session.add(patient)
    session.flush()
    audit.record(session, who.actor, at=now, action="amend", entity=ENTITY, entity_id=patient.id,
                 patient_id=patient.id, old=old, new=new | {"version": patient.version}, reason=data.reason)
    return patient
