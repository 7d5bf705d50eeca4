"""Every query for review flags (scoped to a clinic where the id comes from a caller)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.models.flags import ReviewFlag


def by_key(session: Session, key: str) -> ReviewFlag | None:
    return session.exec(select(ReviewFlag).where(ReviewFlag.key == key)).first()


def get(session: Session, clinic_id: int, flag_id: int) -> ReviewFlag | None:
    return session.exec(select(ReviewFlag).where(ReviewFlag.id == flag_id, ReviewFlag.clinic_id == clinic_id)).first()


def listing(session: Session, clinic_id: int, *, open_only: bool, course_id: int | None, kind: str | None,
            limit: int) -> list[ReviewFlag]:
    query = select(ReviewFlag).where(ReviewFlag.clinic_id == clinic_id)
    if open_only:
        query = query.where(col(ReviewFlag.resolved_at).is_(None))
    if course_id is not None:
        query = query.where(ReviewFlag.course_id == course_id)
    if kind is not None:
        query = query.where(ReviewFlag.kind == kind)
    return list(session.exec(query.order_by(col(ReviewFlag.due_at), col(ReviewFlag.id)).limit(limit)).all())
