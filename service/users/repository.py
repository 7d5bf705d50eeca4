"""Every query for users."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.users import User


def by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get(session: Session, clinic_id: int, user_id: int) -> User | None:
    return session.exec(select(User).where(User.id == user_id, User.clinic_id == clinic_id)).first()


def in_clinic(session: Session, clinic_id: int) -> list[User]:
    return list(session.exec(select(User).where(User.clinic_id == clinic_id).order_by(col(User.username))).all())
