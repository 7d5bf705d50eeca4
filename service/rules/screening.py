"""Safety screening: questionnaire answers → absolute contraindications, relative ones, or none.

The questionnaire is versioned data (``config/clinical/screening.json``) built from the IFCN items
(Rossi 2009 §7.5, amended by the Rossi 2011 letter) and the TASS (Keel 2001); item wording is [U].
Absolute = blocks treatment (device label: implants within 30 cm, cochlear implants; 2021 IFCN-based
checklist). Relative = needs a psychiatrist's recorded clearance with a reason (Rossi 2011: a "yes"
triggers a risk/benefit judgement). "unsure" maps to the file's ``unsure_maps_to``: ``on_yes`` counts it
as a yes, so an unsure answer to an absolute item blocks and cannot be cleared; ``checked`` answers (a
clinician's recorded yes/no after checking the implant card or report) replace the unsure ones.
Screening is per course: a new course (retreatment) or a medication change since the screen makes
it stale (docs/clinical-rules.md#rescreening).

Public API::

    evaluate(answers: Mapping[str, str], questionnaire_version: str | None = None,
             *, clearances: Mapping[str, Clearance] | None = None,
             checked: Mapping[str, str] | None = None) -> ScreeningResult
    currency(completed_on: date, *, for_current_course: bool, medication_changes: Sequence[date] = (),
             is_retreatment: bool = False) -> ScreeningCurrency
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from config import clinical_data
from config.clinical_data import ScreeningFile, ScreeningItem
from service.rules.errors import RuleInputError

ScreeningStatus = Literal["absolute_contraindication", "needs_clearance", "cleared", "incomplete"]


@dataclass(frozen=True)
class Clearance:
    """A psychiatrist's recorded clearance of one relative finding."""

    cleared_by: str
    reason: str
    cleared_on: date


@dataclass(frozen=True)
class Finding:
    """One answer that matters, with its category and whether it has been cleared."""

    item_id: str
    text: str
    answer: str
    category: Literal["absolute", "relative"]
    cleared: bool
    source: str
    unsure: bool = False  # answered "unsure" and not yet checked: counts as a yes


@dataclass(frozen=True)
class ScreeningResult:
    """The screen's verdict; ``status`` says what the technician can do."""

    questionnaire_version: str
    status: ScreeningStatus
    absolute: tuple[Finding, ...]
    relative: tuple[Finding, ...]
    missing_items: tuple[str, ...]
    reasons: tuple[str, ...]

    @property
    def uncleared(self) -> tuple[Finding, ...]:
        """Relative findings still waiting for a psychiatrist's clearance."""
        return tuple(f for f in self.relative if not f.cleared)


@dataclass(frozen=True)
class ScreeningCurrency:
    """Whether a completed screen still applies today."""

    current: bool
    reasons: tuple[str, ...]


def _questionnaire(version: str | None) -> ScreeningFile:
    data = clinical_data.screening()
    if version is not None and version != data.version:
        raise RuleInputError("questionnaire_version", f"unknown version {version!r}; current is {data.version!r}")
    return data


def _category(data: ScreeningFile, item: ScreeningItem, answer: str) -> str:
    if answer == "yes":
        return item.on_yes
    if answer == "unsure":
        return item.on_yes if data.unsure_maps_to == "on_yes" else data.unsure_maps_to
    return "none"


def _validate_clearances(clearances: Mapping[str, Clearance], items: set[str]) -> None:
    for item_id, c in clearances.items():
        if item_id not in items:
            raise RuleInputError(f"clearances.{item_id}", "no such questionnaire item")
        if not c.reason.strip() or not c.cleared_by.strip():
            raise RuleInputError(f"clearances.{item_id}.reason", "a clearance needs the psychiatrist and a reason")


def _findings(
    data: ScreeningFile, answers: Mapping[str, str], clearances: Mapping[str, Clearance]
) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    missing: list[str] = []
    for item in data.items:
        answer = answers.get(item.id)
        if answer is None:
            missing.append(item.id)
            continue
        category = _category(data, item, answer)
        if category in ("absolute", "relative"):
            cleared = category == "relative" and item.id in clearances
            findings.append(Finding(item.id, item.text, answer, category, cleared,  # type: ignore[arg-type]
                                    item.source, unsure=answer == "unsure"))
    return findings, missing


def _status(absolute: Sequence[Finding], relative: Sequence[Finding], missing: Sequence[str]) -> ScreeningStatus:
    if absolute:
        return "absolute_contraindication"
    if missing:
        return "incomplete"
    if any(not f.cleared for f in relative):
        return "needs_clearance"
    return "cleared"


def evaluate(
    answers: Mapping[str, str],
    questionnaire_version: str | None = None,
    *,
    clearances: Mapping[str, Clearance] | None = None,
    checked: Mapping[str, str] | None = None,
) -> ScreeningResult:
    """Classify every answer; absolute findings cannot be cleared, relative ones need a clearance.

    ``checked`` holds a clinician's checked yes/no for items answered "unsure"; it replaces the unsure answer.
    """
    data = _questionnaire(questionnaire_version)
    ids = {i.id for i in data.items}
    for key, value in answers.items():
        if key not in ids:
            raise RuleInputError(f"answers.{key}", "no such questionnaire item")
        if value not in data.answers:
            raise RuleInputError(f"answers.{key}", f"answer must be one of {', '.join(data.answers)}, got {value!r}")
    for key, value in (checked or {}).items():
        if answers.get(key) != "unsure":
            raise RuleInputError(f"checked.{key}", "only an item answered 'unsure' takes a checked answer")
        if value not in ("yes", "no"):
            raise RuleInputError(f"checked.{key}", f"a checked answer is yes or no, got {value!r}")
    _validate_clearances(clearances or {}, ids)
    findings, missing = _findings(data, {**answers, **(checked or {})}, clearances or {})
    absolute = tuple(f for f in findings if f.category == "absolute")
    relative = tuple(f for f in findings if f.category == "relative")
    reasons = [f"absolute contraindication{' (answered unsure: record the checked answer)' if f.unsure else ''}:"
               f" {f.text}" for f in absolute]
    reasons += [f"needs psychiatrist clearance: {f.text}" for f in relative if not f.cleared]
    reasons += [f"cleared by psychiatrist: {f.text}" for f in relative if f.cleared]
    if missing:
        reasons.append(f"{len(missing)} questions not answered: {', '.join(missing)}")
    return ScreeningResult(
        data.version, _status(absolute, relative, missing), absolute, relative, tuple(missing), tuple(reasons)
    )


def currency(
    completed_on: date,
    *,
    for_current_course: bool,
    medication_changes: Sequence[date] = (),
    is_retreatment: bool = False,
) -> ScreeningCurrency:
    """Is a screen completed on ``completed_on`` still valid for the current course today?

    ``for_current_course`` is False when the screen was recorded for an earlier course: screening is
    per course (an intake screen dated before the course's first session is fine).
    """
    reasons = []
    if not for_current_course:
        kind = "retreatment course" if is_retreatment else "course"
        reasons.append(
            f"screen of {completed_on.isoformat()} belongs to an earlier course: this {kind} needs its own screen"
        )
    later = sorted(d for d in medication_changes if d > completed_on)
    if later:
        changed = later[-1].isoformat()
        reasons.append(f"medications changed on {changed}, after the screen of {completed_on.isoformat()}")
    return ScreeningCurrency(current=not reasons, reasons=tuple(reasons))
