"""The pre-session checklist: unanswered items and blocking answers stop the session; answers that matter wait
for a clinician's acknowledgement with a note.

Items are data (``config/clinical/checklist.json``): hearing protection every session [C]; sleep loss,
alcohol or drug use and caffeine asked before each session [C: consent forms citing Rossi 2009 and
Lerner 2019] (docs/clinical-rules.md#pre-session-checklist). Some "yes" answers raise flags the caller
feeds into the MT freshness and screening rules (``sleep_deprivation``, ``substance_use``,
``medication_change``, ``unusual_response``). A "yes" to an item with ``review_on_yes`` (sleep loss and
alcohol or drugs lower the seizure threshold; a new symptom, seizure or fainting needs review; a medication
change may call for a new MT) is a finding that blocks until a clinician acknowledges it with a note
(docs/clinical-rules.md#pre-session-checklist, docs/eligibility-and-checklist.md).

Public API::

    evaluate(answers: Mapping[str, str], acknowledged: Collection[str] = ()) -> ChecklistResult
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from config import clinical_data
from service.rules.errors import RuleInputError


@dataclass(frozen=True)
class ReviewFinding:
    """A "yes" that a clinician must acknowledge with a note before the session starts."""

    item_id: str
    text: str
    why: str
    acknowledged: bool


@dataclass(frozen=True)
class ChecklistResult:
    """Missing items, blocking answers (as readable sentences), raised flags and answers awaiting review."""

    version: str
    complete: bool
    missing: tuple[str, ...]
    blocking: tuple[str, ...]
    flags: frozenset[str]
    review: tuple[ReviewFinding, ...] = ()

    @property
    def unacknowledged(self) -> tuple[ReviewFinding, ...]:
        """Findings no clinician has acknowledged yet."""
        return tuple(r for r in self.review if not r.acknowledged)


def evaluate(answers: Mapping[str, str], acknowledged: Collection[str] = ()) -> ChecklistResult:
    """Evaluate the technician's answers (``yes`` / ``no``) to the pre-session checklist.

    ``acknowledged`` names the items a clinician has acknowledged with a note.
    """
    data = clinical_data.checklist()
    ids = {i.id for i in data.items}
    for key, value in answers.items():
        if key not in ids:
            raise RuleInputError(f"checklist.{key}", "no such checklist item")
        if value not in ("yes", "no"):
            raise RuleInputError(f"checklist.{key}", f"answer must be yes or no, got {value!r}")
    missing = tuple(i.id for i in data.items if i.id not in answers)
    blocking = tuple(
        f"{i.text} Answer was '{answers[i.id]}'."
        for i in data.items
        if i.blocking_answer and answers.get(i.id) == i.blocking_answer
    )
    flags = frozenset(i.flag_on_yes for i in data.items if i.flag_on_yes and answers.get(i.id) == "yes")
    review = tuple(ReviewFinding(i.id, i.text, i.review_on_yes, i.id in acknowledged)
                   for i in data.items if i.review_on_yes and answers.get(i.id) == "yes")
    return ChecklistResult(data.version, not missing, missing, blocking, flags, review)


def needs_review(item_id: str, answers: Mapping[str, str]) -> bool:
    """Is this item's answer one a clinician must acknowledge?"""
    item = next((i for i in clinical_data.checklist().items if i.id == item_id), None)
    return item is not None and item.review_on_yes is not None and answers.get(item_id) == "yes"
