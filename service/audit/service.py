"""Appending to the audit trail, in the same transaction as the change it records.

A request only inserts its row (with a keyed digest of its content); it takes no chain-wide lock, so
concurrent requests, and several processes on one PostgreSQL, never queue behind each other for the audit
trail. The sealer (service/audit/sealer.py) links committed rows into the chain shortly after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from service.audit.chain import content_digest, to_json_value
from service.audit.keys import audit_key
from service.core.read_scope import Rows, defer, is_read_only
from service.models.audit import AuditEvent

_INSERT = insert(AuditEvent)  # Core: an ORM flush of one row costs more than the read it records


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
) -> AuditEvent | None:
    """Append one audit row, unsealed: its id comes from the database, its chain position from the sealer.

    In a read-only transaction the row is queued (``read_scope.defer``) and committed by the group commit
    before the response; there is then no row to return yet (None).
    """
    row = _row(actor, at=at, action=action, entity=entity, entity_id=entity_id, patient_id=patient_id, old=old,
               new=new, reason=reason, clinic_id=clinic_id)
    if is_read_only(session):  # a read's row: committed when the read scope ends, before the response is sent
        defer(session, Rows(_INSERT, [row]))
        return None
    event = AuditEvent(**row)
    session.add(event)
    session.flush()
    return event


def record_many(session: Session, actor: Actor, *, at: datetime, action: str, entity: str,
                entries: list[tuple[Any, int | None, dict[str, Any] | None]]) -> None:
    """Append one row per ``(entity_id, patient_id, new values)`` in one statement (a batch of bookings, say).

    The rows are the same as ``record`` would write one by one, in this order; no ids come back.
    """
    rows = [_row(actor, at=at, action=action, entity=entity, entity_id=entity_id, patient_id=patient_id, new=new)
            for entity_id, patient_id, new in entries]
    if rows:
        session.flush()  # rows the ORM still holds go first, as they would with ``record`` (none in a read)
        defer(session, Rows(_INSERT, rows))


def _row(actor: Actor, *, at: datetime, action: str, entity: str, entity_id: Any = None,
         patient_id: int | None = None, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None,
         reason: str | None = None, clinic_id: int | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "at": at,
        "clinic_id": clinic_id if clinic_id is not None else actor.clinic_id,
        "user_id": actor.user_id,
        "username": actor.username,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "patient_id": patient_id,
        "old_values": to_json_value(old) if old is not None else None,
        "new_values": to_json_value(new) if new is not None else None,
        "reason": reason,
        "client": actor.client,
    }
    row["digest"] = content_digest(audit_key(), row)
    return row


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Old and new values of only the fields that differ."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
