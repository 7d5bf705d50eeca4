"""Clinics (tenants)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from service.audit import service as audit
from service.audit.service import Actor
from service.clinics import repository
from service.models.clinics import Clinic


def get_or_create(session: Session, actor: Actor, name: str, now: datetime, **fields: str | None) -> Clinic:
    """The clinic with this name, created (and audited) if it does not exist yet."""
    clinic = repository.by_name(session, name)
    if clinic is not None:
        return clinic
    clinic = Clinic.model_validate({"name": name, "created_at": now} | {k: v for k, v in fields.items() if v})
    session.add(clinic)
    session.flush()
    audit.record(session, actor, at=now, action="create", entity="clinic", entity_id=clinic.id,
                 clinic_id=clinic.id, new={"name": name, **fields})
    return clinic
