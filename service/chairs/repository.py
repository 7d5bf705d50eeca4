"""Every query for chairs and devices (scoped to a clinic)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.chairs import Chair, Device


def chairs_with_devices(session: Session, clinic_id: int) -> list[tuple[Chair, Device | None]]:
    rows = session.exec(
        select(Chair, Device).join(Device, isouter=True).where(Chair.clinic_id == clinic_id).order_by(col(Chair.name))
    ).all()
    return [(c, d) for c, d in rows]


def get_chair(session: Session, clinic_id: int, chair_id: int) -> Chair | None:
    return session.exec(select(Chair).where(Chair.id == chair_id, Chair.clinic_id == clinic_id)).first()


def chair_by_name(session: Session, clinic_id: int, name: str) -> Chair | None:
    return session.exec(select(Chair).where(Chair.clinic_id == clinic_id, Chair.name == name)).first()

def device(session: Session, clinic_id: int, device_id: int) -> Device | None:
    return session.exec(select(Device).where(Device.id == device_id, Device.clinic_id == clinic_id)).first()


def device_by_serial(session: Session, clinic_id: int, serial: str) -> Device | None:
    return session.exec(select(Device).where(Device.clinic_id == clinic_id, Device.serial == serial)).first()


def devices(session: Session, clinic_id: int) -> list[Device]:
    return list(session.exec(select(Device).where(Device.clinic_id == clinic_id).order_by(col(Device.id))).all())


def chair_holding(session: Session, device_id: int) -> Chair | None:
    """The chair a device stands at, if any."""
    return session.exec(select(Chair).where(Chair.device_id == device_id)).first()


def chairs(session: Session, clinic_id: int, *, active_only: bool = False) -> list[Chair]:
    query = select(Chair).where(Chair.clinic_id == clinic_id)
    if active_only:
        query = query.where(col(Chair.active))
    return list(session.exec(query.order_by(col(Chair.id))).all())
