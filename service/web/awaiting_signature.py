"""Records of the clinic whose current version has no valid signature yet: what the review queue offers to sign,
one by one or several at once (docs/records-and-signatures.md#batch-signing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.models.adverse_events import AdverseEvent
from service.models.screenings import Screening, ScreeningClearance
from service.models.signatures import CourseReview, SignatureStatus
from service.signatures import repository, subjects
from service.web.labels import label

LIMIT = 50  # per kind: the oldest first, so nothing waits for ever behind newer records


@dataclass(frozen=True)
class Unsigned:
    subject: str
    subject_id: int
    version: int
    patient_id: int | None
    course_id: int | None
    what: str
    at: datetime
    meanings: list[str]  # the first is the usual meaning for this kind of record


def _unsigned_ids(session: Session, clinic_id: int, subject: str, rows: list[Any]) -> set[int]:
    signed = {(s.subject_id, s.subject_version) for s in repository.for_subjects(
        session, clinic_id, subject, [r.id for r in rows]) if s.status == SignatureStatus.valid.value}
    return {r.id for r in rows if (r.id, subjects.version_of(r)) not in signed}


def _rows(session: Session, model: Any, clinic_id: int) -> list[Any]:
    return list(session.exec(select(model).where(model.clinic_id == clinic_id).order_by(col(model.id))).all())


def build(session: Session, clinic_id: int) -> list[Unsigned]:
    """Course reviews, adverse events and screening clearances without a valid signature on their current version."""
    out: list[Unsigned] = []
    reviews = _rows(session, CourseReview, clinic_id)
    todo = _unsigned_ids(session, clinic_id, "course_review", reviews)
    for r in [r for r in reviews if r.id in todo][:LIMIT]:
        what = f"Week {r.week} review" if r.kind == "weekly" else "End-of-course summary"
        out.append(Unsigned("course_review", r.id, r.version, r.patient_id, r.course_id,
                            f"{what} (version {r.version})", r.updated_at,
                            ["reviewed", "approved"] if r.kind == "weekly" else ["approved", "reviewed"]))
    events = _rows(session, AdverseEvent, clinic_id)
    todo = _unsigned_ids(session, clinic_id, "adverse_event", events)
    for e in [e for e in events if e.id in todo][:LIMIT]:
        out.append(Unsigned("adverse_event", e.id, subjects.version_of(e), e.patient_id, e.course_id,
                            f"Adverse event: {label(e.term)}, grade {e.grade}{', serious' if e.serious else ''}",
                            e.onset_at, ["reviewed", "cleared"]))
    clearances = _rows(session, ScreeningClearance, clinic_id)
    todo = _unsigned_ids(session, clinic_id, "screening_clearance", clearances)
    wanted = [c for c in clearances if c.id in todo][:LIMIT]
    screenings = {s.id: s for s in session.exec(select(Screening).where(
        Screening.clinic_id == clinic_id, col(Screening.id).in_([c.screening_id for c in wanted]))).all()}
    for c in wanted:
        sc = screenings.get(c.screening_id)
        out.append(Unsigned("screening_clearance", c.id, 1, sc.patient_id if sc else None,
                            sc.course_id if sc else None, f"Screening clearance: {label(c.item_id)}",
                            c.cleared_at, ["cleared"]))
    return out
