"""Raising and resolving review flags. A flag's key is deterministic, so raising it twice records it once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.audit import service as audit
from service.audit.service import SYSTEM, Actor
from service.auth.principal import Principal
from service.core.errors import Conflict, NotFound
from service.flags import repository
from service.models.flags import FlagKind, ReviewFlag


def raise_flag(
    session: Session, *, clinic_id: int, key: str, kind: FlagKind, message: str, now: datetime,
    patient_id: int | None = None, course_id: int | None = None, booking_id: int | None = None,
    due_at: datetime | None = None, actor: Actor = SYSTEM,
) -> ReviewFlag | None:
    """Record a finding unless one with this key exists; returns the new flag, or None if it was known."""
    if repository.by_key(session, key) is not None:
        return None
    flag = ReviewFlag(clinic_id=clinic_id, key=key, kind=kind.value, message=message[:1000], patient_id=patient_id,
                      course_id=course_id, booking_id=booking_id, due_at=due_at or now, created_at=now)
    try:
        # a savepoint: a concurrent writer that raised the same key first must not undo our transaction
        with session.begin_nested():
            session.add(flag)
    except IntegrityError:
        return None
    audit.record(session, actor, at=now, action="flag", entity="review_flag", entity_id=flag.id,
                 patient_id=patient_id, clinic_id=clinic_id, new={"key": key, "kind": kind.value, "message": message})
    return flag


def resolve(session: Session, who: Principal, flag_id: int, resolution: str, now: datetime) -> ReviewFlag:
    """Close a flag with what was done about it."""
    flag = repository.get(session, who.clinic_id, flag_id)
    if flag is None:
        raise NotFound(f"review flag {flag_id} not found")
    if flag.resolved_at is not None:
        raise Conflict(f"review flag {flag_id} was already resolved at {flag.resolved_at}")
    flag.resolved_at, flag.resolved_by, flag.resolution = now, who.user_id, resolution
    session.add(flag)
    session.flush()
    audit.record(session, who.actor, at=now, action="resolve", entity="review_flag", entity_id=flag.id,
                 patient_id=flag.patient_id, old={"resolved_at": None},
                 new={"resolved_at": now, "resolution": resolution}, reason=resolution)
    return flag
