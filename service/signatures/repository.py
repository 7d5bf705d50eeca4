"""Every query for signatures and course reviews, scoped to a clinic."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from service.models.signatures import CourseReview, Signature, SignatureStatus


def for_subject(session: Session, clinic_id: int, subject: str, subject_id: int) -> list[Signature]:
    return list(session.exec(select(Signature).where(
        Signature.clinic_id == clinic_id, Signature.subject == subject, Signature.subject_id == subject_id,
    ).order_by(col(Signature.id))).all())


def for_subjects(session: Session, clinic_id: int, subject: str, ids: Iterable[int]) -> list[Signature]:
    wanted = list(ids)
    if not wanted:
        return []
    return list(session.exec(select(Signature).where(
        Signature.clinic_id == clinic_id, Signature.subject == subject, col(Signature.subject_id).in_(wanted),
    ).order_by(col(Signature.id))).all())


def valid_before(session: Session, clinic_id: int, subject: str, subject_id: int, version: int) -> list[Signature]:
    """Valid signatures on versions older than ``version`` (an amendment supersedes them)."""
    return list(session.exec(select(Signature).where(
        Signature.clinic_id == clinic_id, Signature.subject == subject, Signature.subject_id == subject_id,
        Signature.status == SignatureStatus.valid.value, col(Signature.subject_version) < version,
    ).with_for_update()).all())


def review(session: Session, clinic_id: int, review_id: int) -> CourseReview | None:
    return session.exec(select(CourseReview).where(
        CourseReview.id == review_id, CourseReview.clinic_id == clinic_id)).first()


def reviews_of_course(session: Session, clinic_id: int, course_id: int) -> list[CourseReview]:
    return list(session.exec(select(CourseReview).where(
        CourseReview.clinic_id == clinic_id, CourseReview.course_id == course_id,
    ).order_by(col(CourseReview.id))).all())


def reviews_of_clinic(session: Session, clinic_id: int, course_ids: Iterable[int]) -> list[CourseReview]:
    wanted = list(course_ids)
    if not wanted:
        return []
    return list(session.exec(select(CourseReview).where(
        CourseReview.clinic_id == clinic_id, col(CourseReview.course_id).in_(wanted),
    ).order_by(col(CourseReview.id))).all())
