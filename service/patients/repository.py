"""Every query for patients. Every lookup is scoped to a clinic: another clinic's id is simply not found."""

from __future__ import annotations

from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, col, select

from service.models.patients import Patient

# Built once: the most frequent read of the service need not rebuild its statement on every request.
_BY_ID = select(Patient).where(col(Patient.id) == bindparam("id"), col(Patient.clinic_id) == bindparam("clinic"))


def get(session: Session, clinic_id: int, patient_id: int) -> Patient | None:
    return session.exec(_BY_ID, params={"id": patient_id, "clinic": clinic_id}).first()


def by_mrn(session: Session, clinic_id: int, mrn: str) -> Patient | None:
    return session.exec(select(Patient).where(Patient.clinic_id == clinic_id, Patient.mrn == mrn)).first()


def search(
    session: Session, clinic_id: int, *, q: str | None, limit: int, offset: int
) -> tuple[list[Patient], int]:
    query = select(Patient).where(Patient.clinic_id == clinic_id)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(
            func.lower(Patient.family_name).like(like),
            func.lower(Patient.given_name).like(like),
            func.lower(Patient.mrn).like(like),
        ))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Patient.family_name), col(Patient.given_name), col(Patient.id)).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)
