"""Every query for clinics."""

from __future__ import annotations

from sqlmodel import Session, select

from service.models.clinics import Clinic


def by_name(session: Session, name: str) -> Clinic | None:
    return session.exec(select(Clinic).where(Clinic.name == name)).first()


def get(session: Session, clinic_id: int) -> Clinic | None:
    return session.get(Clinic, clinic_id)
