"""Every query for signed protocol overrides (always clinic-scoped)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.protocols import ProtocolOverride


def by_hash(session: Session, clinic_id: int, sha256: str) -> list[ProtocolOverride]:
    return list(session.exec(
        select(ProtocolOverride).where(ProtocolOverride.clinic_id == clinic_id,
                                       ProtocolOverride.parameters_sha256 == sha256)
        .order_by(col(ProtocolOverride.signed_at), col(ProtocolOverride.id))
    ).all())


def for_clinic(session: Session, clinic_id: int, patient_id: int | None = None) -> list[ProtocolOverride]:
    query = select(ProtocolOverride).where(ProtocolOverride.clinic_id == clinic_id)
    if patient_id is not None:
        query = query.where(ProtocolOverride.patient_id == patient_id)
    return list(session.exec(query.order_by(col(ProtocolOverride.signed_at), col(ProtocolOverride.id))).all())
