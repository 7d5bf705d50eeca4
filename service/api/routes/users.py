"""User administration (admins, within their own clinic). There is no delete: deactivate instead."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.api.deps import AdminUser, Id, NowDep, SessionDep, read_only
from service.core.errors import NotFound
from service.users import repository, service
from service.users.schemas import UserCreate, UserPublic, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=list[UserPublic])
@read_only
def list_users(who: AdminUser, session: SessionDep) -> object:
    """Accounts of your clinic."""
    return repository.in_clinic(session, who.clinic_id)


@router.post("", status_code=201, response_model=UserPublic)
def create_user(body: UserCreate, who: AdminUser, session: SessionDep, now: NowDep, request: Request) -> object:
    """Create an account in your clinic."""
    return service.create(session, who.actor, request.app.state.passwords, who.clinic_id, body, now)


@router.get("/{user_id}", response_model=UserPublic)
@read_only
def get_user(user_id: Id, who: AdminUser, session: SessionDep) -> object:
    """One account of your clinic."""
    user = repository.get(session, who.clinic_id, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(user_id: Id, body: UserUpdate, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Rename, change role, deactivate or reactivate an account (with a reason)."""
    return service.update(session, who.actor, who.clinic_id, user_id, body, now)
