"""The caller's own clinic."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import AnyPrincipal, SessionDep, read_only
from service.clinics import repository
from service.clinics.schemas import ClinicPublic

router = APIRouter(prefix="/api/v1/clinic", tags=["clinics"])


@router.get("", response_model=ClinicPublic)
@read_only
def my_clinic(who: AnyPrincipal, session: SessionDep) -> object:
    """The clinic you belong to."""
    return repository.get(session, who.clinic_id)
