"""Chairs of the caller's clinic, with their devices."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import AnyPrincipal, SessionDep
from service.chairs import repository
from service.chairs.schemas import ChairPublic

router = APIRouter(prefix="/api/v1/chairs", tags=["chairs"])


@router.get("", response_model=list[ChairPublic])
def list_chairs(who: AnyPrincipal, session: SessionDep) -> object:
    """Your clinic's chairs and the device at each."""
    return [
        {**chair.model_dump(), "device": device.model_dump() if device else None}
        for chair, device in repository.chairs_with_devices(session, who.clinic_id)
    ]
