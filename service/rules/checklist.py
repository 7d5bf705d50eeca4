"""The pre-session checklist: unanswered items and blocking answers stop the session.

Items are data (``config/clinical/checklist.json``): hearing protection every session [C]; sleep loss,
alcohol or drug use and caffeine asked before each session [C: consent forms citing Rossi 2009 and
Lerner 2019] (docs/clinical-rules.md#pre-session-checklist). Some "yes" answers raise flags the
caller feeds into the MT freshness and screening rules (``sleep_deprivation``, ``substance_use``,
``medication_change``, ``unusual_response``).

Public API::

    evaluate(answers: Mapping[str, str]) -> ChecklistResult
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from config import clinical_data
from service.rules.errors import RuleInputError


@dataclass(frozen=True)
class ChecklistResult:
    """Missing items, blocking answers (as readable sentences) and raised flags."""

    version: str
    complete: bool
    missing: tuple[str, ...]
    blocking: tuple[str, ...]
    flags: frozenset[str]


def evaluate(answers: Mapping[str, str]) -> ChecklistResult:
    """Evaluate the technician's answers (``yes`` / ``no``) to the pre-session checklist."""
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
    return ChecklistResult(data.version, not missing, missing, blocking, flags)
