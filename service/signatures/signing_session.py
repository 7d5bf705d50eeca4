"""The continuous signing session of 21 CFR 11.200(a)(1)(i), tied to one sign-in session.

The first signing after sign-in uses both components (username and password); later signings in the same
sign-in session need only the password. The session's state is read from the audit trail itself: an
``open`` row is written at the first full signing and a ``close`` row at any refused attempt, so there is no
second copy of the state to disagree with the record, and every change of state is audited by construction.
Logout, the idle timeout and the absolute timeout end the sign-in session, and with it the signing session:
a new sign-in has a new session id with no ``open`` row.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.audit import service as audit
from service.auth.principal import Principal
from service.models.audit import AuditEvent

ENTITY = "signing_session"


def is_open(session: Session, who: Principal) -> bool:
    """Whether this sign-in session has a continuous signing session (its last state row says open)."""
    last = session.exec(select(AuditEvent.action).where(
        AuditEvent.user_id == who.user_id, AuditEvent.entity == ENTITY, AuditEvent.entity_id == str(who.session_id),
    ).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    return last == "open"


def open_(session: Session, who: Principal, now: datetime) -> None:
    audit.record(session, who.actor, at=now, action="open", entity=ENTITY, entity_id=who.session_id,
                 new={"components": "username+password"})


def close(session: Session, who: Principal, now: datetime, reason: str) -> None:
    """A refused attempt ends the signing session: the next signing needs the username again."""
    if is_open(session, who):
        audit.record(session, who.actor, at=now, action="close", entity=ENTITY, entity_id=who.session_id,
                     reason=reason)
