"""Managing chairs and devices: admins add and amend them (never delete); every change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from schedules.resources import ChairResource
from service.audit import service as audit
from service.auth.principal import Principal
from service.chairs import capabilities, repository
from service.chairs import repository as chairs_repo
from service.chairs.schemas import ChairAmend, ChairCreate, DeviceAmend, DeviceCreate
from service.core.errors import Conflict, NotFound, Unprocessable
from service.models.chairs import Chair, Device
from service.rules import protocols


def device_detail(device: Device) -> dict[str, Any]:
    return device.model_dump() | {"protocols": sorted(capabilities.protocols_for(device.model))}


def chair_detail(session: Session, chair: Chair) -> dict[str, Any]:
    device = session.get(Device, chair.device_id) if chair.device_id else None
    runs = sorted(capabilities.protocols_for(device.model, chair.mode)) if device and device.active else []
    return chair.model_dump(include={"id", "name", "mode", "active", "device_id"}) | {"protocols": runs}


def models() -> list[dict[str, Any]]:
    """Each known device model with what it can and cannot run, and why not."""
    out = []
    for model in capabilities.known_models():
        why = {p.id: capabilities.why_not(model, p) for p in protocols.catalog()}
        out.append({"model": model, "protocols": sorted(k for k, v in why.items() if v is None),
                    "cannot_run": {k: v for k, v in sorted(why.items()) if v is not None}})
    return out


def get_device(session: Session, who: Principal, device_id: int) -> Device:
    device = repository.device(session, who.clinic_id, device_id)
    if device is None:
        raise NotFound(f"device {device_id} not found")
    return device


def create_device(session: Session, who: Principal, data: DeviceCreate, now: datetime) -> Device:
    """Register a stimulator of a known model."""
    if data.model not in capabilities.known_models():
        raise Unprocessable("model", f"unknown device model {data.model!r}; known: {capabilities.known_models()}")
    if repository.device_by_serial(session, who.clinic_id, data.serial) is not None:
        raise Conflict(f"serial: a device with serial {data.serial!r} already exists", code="duplicate_serial")
    device = Device(**data.model_dump(), clinic_id=who.clinic_id, created_at=now)
    session.add(device)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity="device", entity_id=device.id,
                 new=data.model_dump())
    return device


def amend_device(session: Session, who: Principal, device_id: int, data: DeviceAmend, now: datetime) -> Device:
    """Change a device's firmware, coil or active flag, with a reason."""
    device = get_device(session, who, device_id)
    return _amend(session, who, device, "device", data.model_dump(exclude_unset=True, exclude={"reason"}),
                  data.reason, now)


def _amend(session: Session, who: Principal, row: Device | Chair, entity: str, changes: dict[str, Any],
           reason: str, now: datetime) -> Any:
    before = row.model_dump(exclude={"created_at"})
    for name, value in changes.items():
        setattr(row, name, value)
    old, new = audit.changed_fields(before, row.model_dump(exclude={"created_at"}))
    if not new:
        raise Unprocessable("body", "the amendment changes nothing: every value equals the current one")
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="amend", entity=entity, entity_id=row.id, old=old, new=new,
                 reason=reason)
    return row


def _check_device_free(session: Session, who: Principal, device_id: int, chair_id: int | None) -> None:
    get_device(session, who, device_id)
    holder = repository.chair_holding(session, device_id)
    if holder is not None and holder.id != chair_id:
        raise Conflict(f"device_id: device {device_id} already stands at chair {holder.id} ({holder.name})",
                       code="device_in_use")


def create_chair(session: Session, who: Principal, data: ChairCreate, now: datetime) -> Chair:
    """Add a chair, optionally with its device."""
    if chairs_repo.chair_by_name(session, who.clinic_id, data.name) is not None:
        raise Conflict(f"name: a chair named {data.name!r} already exists", code="duplicate_name")
    if data.device_id is not None:
        _check_device_free(session, who, data.device_id, None)
    chair = Chair(**data.model_dump(), clinic_id=who.clinic_id, created_at=now)
    session.add(chair)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity="chair", entity_id=chair.id,
                 new=data.model_dump())
    return chair


def amend_chair(session: Session, who: Principal, chair_id: int, data: ChairAmend, now: datetime) -> Chair:
    """Rename a chair, move a device to it, change its mode or active flag, with a reason."""
    chair = chairs_repo.get_chair(session, who.clinic_id, chair_id)
    if chair is None:
        raise NotFound(f"chair {chair_id} not found")
    changes = data.model_dump(exclude_unset=True, exclude={"reason"})
    if changes.get("device_id") is not None:
        _check_device_free(session, who, changes["device_id"], chair.id)
    name = changes.get("name")
    if name and name != chair.name and chairs_repo.chair_by_name(session, who.clinic_id, name) is not None:
        raise Conflict(f"name: a chair named {name!r} already exists", code="duplicate_name")
    return _amend(session, who, chair, "chair", changes, data.reason, now)


def planner_chairs(session: Session, clinic_id: int) -> tuple[ChairResource, ...]:
    """Active chairs with an active device, as the pure planner's resources (ids as strings)."""
    devices = {d.id: d for d in repository.devices(session, clinic_id) if d.active}
    out = []
    for chair in repository.chairs(session, clinic_id, active_only=True):
        device = devices.get(chair.device_id)
        if device is not None:
            out.append(ChairResource(str(chair.id), str(device.id),
                                     capabilities.protocols_for(device.model, chair.mode)))
    return tuple(out)
