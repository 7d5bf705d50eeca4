"""Response and remission of a clinic's courses by protocol and instrument, with the denominators stated.

Response and remission are the flags the scale rules stored on each assessment (≥50% reduction from the
course baseline; the instrument's remission cut-off), so this module never re-derives a threshold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from service.models.assessments import Assessment
from service.models.courses import Course

ENDED = ("completed", "discontinued")

DENOMINATORS = {
    "completers": "courses completed as planned that have a baseline and at least one later score on the "
                  "same instrument; the last score of the course is compared with its baseline",
    "intent_to_treat": "every ended course (completed or discontinued) with a baseline score on the instrument; "
                       "a course without a later score counts as neither response nor remission",
}

# Published benchmarks (docs/clinical-rules.md#outcome-benchmarks); shown beside the clinic's own rates, never mixed in.
BENCHMARKS: tuple[dict[str, Any], ...] = (
    {"source": "Carpenter 2012 (42 US sites, n=307, naturalistic)", "instrument": "CGI-S (clinician)",
     "response": 58.0, "remission": 37.1},
    {"source": "Carpenter 2012", "instrument": "PHQ-9", "response": 56.4, "remission": 28.7},
    {"source": "Carpenter 2012", "instrument": "IDS-SR", "response": 41.5, "remission": 26.5},
    {"source": "STAR*D (Rush 2006), step 1", "instrument": "QIDS-SR16", "response": None, "remission": 36.8},
)


@dataclass
class Cell:
    protocol_id: str
    instrument: str
    itt: int = 0
    completers: int = 0
    responders: int = 0
    remitters: int = 0
    itt_responders: int = 0
    itt_remitters: int = 0

    @staticmethod
    def pct(n: int, d: int) -> float | None:
        return round(100 * n / d, 1) if d else None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__ | {
            "response_pct": self.pct(self.responders, self.completers),
            "remission_pct": self.pct(self.remitters, self.completers),
            "itt_response_pct": self.pct(self.itt_responders, self.itt),
            "itt_remission_pct": self.pct(self.itt_remitters, self.itt)}


def _count(cell: Cell, course: Course, rows: list[Assessment]) -> None:
    cell.itt += 1
    last = rows[-1] if len(rows) > 1 else None  # the first score of the course is its baseline
    responded, remitted = bool(last and last.response), bool(last and last.remission)
    cell.itt_responders += responded
    cell.itt_remitters += remitted
    if course.status == "completed" and last is not None:
        cell.completers += 1
        cell.responders += responded
        cell.remitters += remitted


def by_protocol(session: Session, clinic_id: int) -> list[dict[str, Any]]:
    """One row per protocol and instrument over the clinic's ended courses."""
    courses = list(session.exec(select(Course).where(Course.clinic_id == clinic_id,
                                                     col(Course.status).in_(ENDED))).all())
    rows = list(session.exec(select(Assessment).where(
        Assessment.clinic_id == clinic_id, col(Assessment.course_id).in_([c.id for c in courses]))
        .order_by(col(Assessment.administered_at), col(Assessment.id))).all()) if courses else []
    by_course: dict[tuple[int, str], list[Assessment]] = defaultdict(list)
    for a in rows:
        by_course[(a.course_id or 0, a.instrument)].append(a)
    cells: dict[tuple[str, str], Cell] = {}
    for c in courses:
        for (course_id, instrument), scores in sorted(by_course.items()):
            if course_id == c.id:
                cell = cells.setdefault((c.protocol_id, instrument), Cell(c.protocol_id, instrument))
                _count(cell, c, scores)
    return [cells[k].as_dict() for k in sorted(cells)]
