"""Creating, amending and reading clinical records: every write and read is audited, and an amendment
supersedes the signatures that stood for the old version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.audit import service as audit
from service.auth.principal import Principal
from service.core.errors import Unprocessable
from service.signatures import service as signatures
from service.signatures.subjects import SUBJECTS as SIGNABLE


def amend_row(
    session: Session, who: Principal, row: Any, changes: dict[str, Any], *,
    entity: str, patient_id: int, reason: str, now: datetime,
) -> None:
    """Apply ``changes`` to a versioned row; old values and the reason go to the audit trail, the version goes up."""
    skip = {"created_at", "updated_at"}
    before = row.model_dump(exclude=skip)
    for name, value in changes.items():
        setattr(row, name, value)
    old, new = audit.changed_fields(before, row.model_dump(exclude=skip))
    if not new:
        raise Unprocessable("body", "the amendment changes nothing: every value equals the current one")
    row.version += 1
    row.updated_at = now
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="amend", entity=entity, entity_id=row.id,
                 patient_id=patient_id, old=old, new=new | {"version": row.version}, reason=reason)
    if entity in SIGNABLE:  # a signature stands for the version it signed, not for the amendment
        signatures.supersede(session, who, entity, row.id, row.version, reason, now)


def created(session: Session, who: Principal, row: Any, *, entity: str, patient_id: int | None, now: datetime) -> None:
    """Flush a new row and audit its creation with all its values."""
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity=entity, entity_id=row.id,
                 patient_id=patient_id, new=row.model_dump(exclude={"created_at", "updated_at"}))


def read_audit(session: Session, who: Principal, *, entity: str, patient_id: int, now: datetime,
               entity_id: Any = None, detail: dict[str, Any] | None = None) -> None:
    """Audit a read of a patient's clinical record."""
    audit.record(session, who.actor, at=now, action="read", entity=entity, entity_id=entity_id,
                 patient_id=patient_id, new=detail)
