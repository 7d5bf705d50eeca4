"""Records of the clinic whose current version has no valid signature yet: what the review queue offers to sign,
one by one or several at once (docs/records-and-signatures.md#batch-signing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.models.adverse_events import AdverseEvent
from service.models.screenings import Screening, ScreeningClearance
from service.models.signatures import CourseReview, Signature, SignatureStatus
from service.signatures import subjects
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


def _unsigned(session: Session, model: Any, subject: str, clinic_id: int) -> list[Any]:
    """The oldest LIMIT rows of the clinic with no valid signature on their current version, found in the database
    (a clinic's signed history grows for years; only what still waits is read)."""
    version = model.version if hasattr(model, "version") else 1
    signed = select(Signature.id).where(
        Signature.clinic_id == clinic_id, Signature.subject == subject, Signature.subject_id == model.id,
        Signature.subject_version == version, Signature.status == SignatureStatus.valid.value)
    return list(session.exec(select(model).where(model.clinic_id == clinic_id, ~signed.exists())
                             .order_by(col(model.id)).limit(LIMIT)).all())


def build(session: Session, clinic_id: int) -> list[Unsigned]:
    """Course reviews, adverse events and screening clearances without a valid signature on their current version."""
    out: list[Unsigned] = []
    for r in _unsigned(session, CourseReview, "course_review", clinic_id):
        what = f"Week {r.week} review" if r.kind == "weekly" else "End-of-course summary"
        out.append(Unsigned("course_review", r.id, r.version, r.patient_id, r.course_id,
                            f"{what} (version {r.version})", r.updated_at,
                            ["reviewed", "approved"] if r.kind == "weekly" else ["approved", "reviewed"]))
    for e in _unsigned(session, AdverseEvent, "adverse_event", clinic_id):
        out.append(Unsigned("adverse_event", e.id, subjects.version_of(e), e.patient_id, e.course_id,
                            f"Adverse event: {label(e.term)}, grade {e.grade}{', serious' if e.serious else ''}",
                            e.onset_at, ["reviewed", "cleared"]))
    wanted = _unsigned(session, ScreeningClearance, "screening_clearance", clinic_id)
    screenings = {s.id: s for s in session.exec(select(Screening).where(
        Screening.clinic_id == clinic_id, col(Screening.id).in_([c.screening_id for c in wanted]))).all()}
    for c in wanted:
        sc = screenings.get(c.screening_id)
        out.append(Unsigned("screening_clearance", c.id, 1, sc.patient_id if sc else None,
                            sc.course_id if sc else None, f"Screening clearance: {label(c.item_id)}",
                            c.cleared_at, ["cleared"]))
    return out
