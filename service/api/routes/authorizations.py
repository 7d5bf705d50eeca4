"""Payer authorization endpoints: record, read with unit usage, list, amend. There is no delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.api.deps import Id, NowDep, SessionDep, StaffUser, require_roles
from service.auth.principal import Principal
from service.authorizations import service
from service.authorizations.schemas import AuthorizationAmend, AuthorizationCreate, AuthorizationPublic
from service.models.users import Role

# Payer paperwork is done by the psychiatrist or the clinic's administrator.
PaperworkUser = Annotated[Principal, Depends(require_roles(Role.psychiatrist, Role.admin))]

router = APIRouter(prefix="/api/v1/authorizations", tags=["authorizations"])


@router.post("", status_code=201, response_model=AuthorizationPublic)
def create_authorization(body: AuthorizationCreate, who: PaperworkUser, session: SessionDep,
                         now: NowDep) -> object:
    """Record a payer authorization for a course: number, date window, units per CPT code."""
    return service.public(session, service.create(session, who, body, now))


@router.get("", response_model=list[AuthorizationPublic])
def list_authorizations(
    who: StaffUser, session: SessionDep,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> object:
    """Your clinic's authorizations (or one course's) with units used and remaining."""
    return [service.public(session, a) for a in service.listing(session, who, course_id)]


@router.get("/{authorization_id}", response_model=AuthorizationPublic)
def get_authorization(authorization_id: Id, who: StaffUser, session: SessionDep) -> object:
    """One authorization with units used, booked and remaining."""
    return service.public(session, service.get_or_404(session, who, authorization_id))


@router.patch("/{authorization_id}", response_model=AuthorizationPublic)
def amend_authorization(authorization_id: Id, body: AuthorizationAmend, who: PaperworkUser, session: SessionDep,
                        now: NowDep) -> object:
    """Amend an authorization (window, units, number, withdrawn), with a reason."""
    return service.public(session, service.amend(session, who, authorization_id, body, now))
