"""Chairs of the caller's clinic, with their devices."""

from __future__ import annotations

from fastapi import APIRouter

from service.chairs import repository
from service.chairs.schemas import ChairPublic
from service.core.deps import AnyPrincipal, SessionDep
from service.equipment import capabilities

router = APIRouter(prefix="/api/v1/chairs", tags=["chairs"])


@router.get("", response_model=list[ChairPublic])
def list_chairs(who: AnyPrincipal, session: SessionDep) -> object:
    """Your clinic's chairs and the device at each."""
    return [
        {**chair.model_dump(), "device": device.model_dump() if device else None,
         "protocols": sorted(capabilities.protocols_for(device.model, chair.mode))
         if device and device.active and chair.active else []}
        for chair, device in repository.chairs_with_devices(session, who.clinic_id)
    ]
