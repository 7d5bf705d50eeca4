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
