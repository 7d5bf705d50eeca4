"""User accounts: unique usernames, hashed passwords, deactivation instead of deletion."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from service.audit import service as audit
from service.audit.service import Actor
from service.auth.passwords import Passwords
from service.core.errors import Conflict, NotFound, Unprocessable
from service.models.users import User
from service.users import repository
from service.users.schemas import UserCreate, UserUpdate

ENTITY = "user"


def create(
    session: Session, actor: Actor, passwords: Passwords, clinic_id: int, data: UserCreate, now: datetime
) -> User:
    """Create an account in a clinic; usernames are never reused."""
    if repository.by_username(session, data.username) is not None:
        raise Conflict(f"username: '{data.username}' is taken", code="duplicate_username")
    user = User(
        clinic_id=clinic_id, username=data.username, display_name=data.display_name, role=data.role.value,
        password_hash=passwords.hash(data.password), created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, at=now, action="create", entity=ENTITY, entity_id=user.id, clinic_id=clinic_id,
                 new={"username": user.username, "role": user.role, "display_name": user.display_name})
    return user


def update(session: Session, actor: Actor, clinic_id: int, user_id: int, data: UserUpdate, now: datetime) -> User:
    """Change a user's name, role or active flag (a privilege change, so it is audited with a reason)."""
    user = repository.get(session, clinic_id, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if user_id == actor.user_id and (data.active is False or (data.role and data.role.value != user.role)):
        raise Unprocessable("role", "you cannot change your own role or deactivate yourself")
    changes = data.model_dump(exclude_unset=True, exclude={"reason"})
    before = {"display_name": user.display_name, "role": user.role, "active": user.active}
    for name, value in changes.items():
        setattr(user, name, value.value if hasattr(value, "value") else value)
    after = {"display_name": user.display_name, "role": user.role, "active": user.active}
    old, new = audit.changed_fields(before, after)
    if not new:
        raise Unprocessable("body", "the update changes nothing")
    session.add(user)
    audit.record(session, actor, at=now, action="update", entity=ENTITY, entity_id=user.id, clinic_id=clinic_id,
                 old=old, new=new, reason=data.reason)
    return user
