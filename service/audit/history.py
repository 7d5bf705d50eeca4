"""A record's amendment history from the audit trail: when, by whom, the old and new values, and why."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.audit import AuditEvent


def amendments(session: Session, clinic_id: int, entity: str, entity_id: int) -> list[AuditEvent]:
    """Every amendment of one record of the clinic, newest first."""
    return list(session.exec(select(AuditEvent).where(
        AuditEvent.clinic_id == clinic_id, AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id),
        AuditEvent.action == "amend",
    ).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())).all())
