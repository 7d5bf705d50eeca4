"""The kinds of record a psychiatrist can sign, how to find one in a clinic, and its canonical form."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, select

from service.audit.chain import to_json_value
from service.models.adverse_events import AdverseEvent
from service.models.protocols import ProtocolOverride
from service.models.screenings import ScreeningClearance
from service.models.signatures import CourseReview, Meaning


@dataclass(frozen=True)
class Subject:
    """A signable record type: its table and the meanings a signature on it may carry."""

    name: str
    model: type[SQLModel]
    meanings: frozenset[str]

    def load(self, session: Session, clinic_id: int, subject_id: int) -> Any:
        """The record in this clinic, or None (another clinic's record is simply not found)."""
        model: Any = self.model
        return session.exec(select(model).where(model.id == subject_id, model.clinic_id == clinic_id)).first()


SUBJECTS: dict[str, Subject] = {}


def register(subject: Subject) -> None:
    """Make a record type signable (the clinical packages' records are registered where they are imported)."""
    SUBJECTS[subject.name] = subject


register(Subject("course_review", CourseReview, frozenset({Meaning.reviewed, Meaning.approved})))
# Clearances and overrides: signed in addition to the name each stores itself.
register(Subject("screening_clearance", ScreeningClearance, frozenset({Meaning.cleared})))
register(Subject("protocol_override", ProtocolOverride, frozenset({Meaning.approved})))
register(Subject("adverse_event", AdverseEvent, frozenset({Meaning.reviewed, Meaning.cleared})))


def version_of(row: Any) -> int:
    """Records without a version column are never amended in place: they are version 1 for ever."""
    return int(getattr(row, "version", 1) or 1)


def patient_of(row: Any) -> int | None:
    return getattr(row, "patient_id", None)


def canonical(row: Any) -> str:
    """Canonical JSON of every column of the row: sorted keys, no whitespace, UTC ISO times."""
    return json.dumps(to_json_value(row.model_dump()), sort_keys=True, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()

