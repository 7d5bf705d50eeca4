"""The caller's own clinic."""

from __future__ import annotations

from fastapi import APIRouter

from service.clinics import repository
from service.clinics.schemas import ClinicPublic
from service.core.deps import AnyPrincipal, SessionDep

router = APIRouter(prefix="/api/v1/clinic", tags=["clinics"])


@router.get("", response_model=ClinicPublic)
def my_clinic(who: AnyPrincipal, session: SessionDep) -> object:
    """The clinic you belong to."""
    return repository.get(session, who.clinic_id)
