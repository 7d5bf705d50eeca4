"""Appending to the audit trail, in the same transaction as the change it records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from service.audit.chain import row_hash, to_json_value
from service.models.audit import AuditEvent, AuditHead


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, a chair agent, or the system itself (user_id None)."""

    user_id: int | None
    username: str
    clinic_id: int | None
    role: str = "system"
    client: str | None = None


SYSTEM = Actor(user_id=None, username="system", clinic_id=None)


def record(
    session: Session,
    actor: Actor,
    *,
    at: datetime,
    action: str,
    entity: str,
    entity_id: Any = None,
    patient_id: int | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str | None = None,
    clinic_id: int | None = None,
) -> AuditEvent:
    """Append one chained audit row. Locks the chain head, so appends never race on ``prev_hash``."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    # The id is part of the hash (so a reordered row is detectable); the head lock makes last+1 safe.
    event = AuditEvent(
        id=head.last_event_id + 1,
        at=at,
        clinic_id=clinic_id if clinic_id is not None else actor.clinic_id,
        user_id=actor.user_id,
        username=actor.username,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        old_values=to_json_value(old) if old is not None else None,
        new_values=to_json_value(new) if new is not None else None,
        reason=reason,
        client=actor.client,
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = row_hash(event.model_dump())
    session.add(event)
    head.last_event_id = event.id or 0
    head.last_hash = event.hash
    session.add(head)
    session.flush()
    return event


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Old and new values of only the fields that differ."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
