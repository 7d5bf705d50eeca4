"""Chairs and devices of the caller's clinic: reading them (any principal), managing them (admins), and the
device capability table. There is no delete."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import AdminUser, AnyPrincipal, Id, NowDep, SessionDep, StaffUser, read_only
from service.bookings import recheck
from service.chairs import capabilities, repository, service
from service.chairs.schemas import (
    ChairAmend,
    ChairCreate,
    ChairDetail,
    ChairPublic,
    DeviceAmend,
    DeviceCreate,
    DeviceDetail,
    ModelPublic,
)

router = APIRouter(prefix="/api/v1", tags=["chairs"])


@router.get("/chairs", response_model=list[ChairPublic])
def list_chairs(who: AnyPrincipal, session: SessionDep) -> object:
    """Your clinic's chairs and the device at each."""
    return [
        {**chair.model_dump(), "device": device.model_dump() if device else None,
         "protocols": sorted(capabilities.protocols_for(device.model, chair.mode))
         if device and device.active and chair.active else []}
        for chair, device in repository.chairs_with_devices(session, who.clinic_id)
    ]

@router.get("/devices/models", response_model=list[ModelPublic])
@read_only
def device_models(who: StaffUser) -> object:
    """Known device models and which catalog protocols each can run (and why not)."""
    return service.models()


@router.get("/devices", response_model=list[DeviceDetail])
def list_devices(who: StaffUser, session: SessionDep) -> object:
    """Your clinic's devices with the protocols each can run."""
    return [service.device_detail(d) for d in repository.devices(session, who.clinic_id)]


@router.post("/devices", status_code=201, response_model=DeviceDetail)
def create_device(body: DeviceCreate, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Register a stimulator."""
    return service.device_detail(service.create_device(session, who, body, now))


@router.patch("/devices/{device_id}", response_model=DeviceDetail)
def amend_device(device_id: Id, body: DeviceAmend, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Amend a device (firmware, coil, active), with a reason."""
    return service.device_detail(service.amend_device(session, who, device_id, body, now))


@router.post("/chairs", status_code=201, response_model=ChairDetail)
def create_chair(body: ChairCreate, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Add a chair, optionally with its device."""
    return service.chair_detail(session, service.create_chair(session, who, body, now))


@router.patch("/chairs/{chair_id}", response_model=ChairDetail)
def amend_chair(chair_id: Id, body: ChairAmend, who: AdminUser, session: SessionDep, now: NowDep) -> object:
    """Amend a chair (name, device, mode, active), with a reason; its future bookings it can no longer deliver
    get a review flag (a mode, device or active change)."""
    chair = service.amend_chair(session, who, chair_id, body, now)
    if {"mode", "device_id", "active"} & body.model_fields_set:
        recheck.future_bookings(session, chair, now)
    return service.chair_detail(session, chair)
