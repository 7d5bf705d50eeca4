"""The facts an eligibility decision reads, and their validation (bad input → RuleInputError).

``conditions`` maps an exclusion key (see ``condition_vocabulary`` in payer_criteria.json) to
True (present) or False (assessed and absent); a key left out means "not assessed" and is reported
as missing evidence, never assumed absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from service.rules import scales, trials
from service.rules.errors import RuleInputError, require_not_future, require_order
from service.rules.trials import MedicationTrial

EctStatus = Literal["receiving", "candidate", "contraindicated", "declined", "not_considered"]


@dataclass(frozen=True)
class BaselineScore:
    """A pre-treatment rating-scale total."""

    instrument: str
    total: int
    administered_on: date


@dataclass(frozen=True)
class PsychotherapyTrial:
    """An evidence-based psychotherapy trial in the current episode."""

    modality: str
    start_date: date
    stop_date: date | None = None
    outcome: Literal["no_improvement", "partial", "improved"] | None = None


@dataclass(frozen=True)
class PriorCourse:
    """A previous TMS course, for retreatment rules (improvement in % reduction from its baseline)."""

    end_date: date
    improvement_pct: float
    sustained_days: int | None = None
    relapsed: bool | None = None
    instrument: str | None = None  # the depression scale the improvement was measured on


@dataclass(frozen=True)
class EligibilityFacts:
    """Everything the payer criteria look at, for one patient and depressive episode."""

    age_years: int | None = None
    diagnosis_codes: tuple[str, ...] = ()
    baseline_scores: tuple[BaselineScore, ...] = ()
    medication_trials: tuple[MedicationTrial, ...] = ()
    psychotherapy_trials: tuple[PsychotherapyTrial, ...] = ()
    psychiatrist_evaluation: bool | None = None
    conditions: Mapping[str, bool] = field(default_factory=dict)
    ect_status: EctStatus | None = None
    prior_courses: tuple[PriorCourse, ...] = ()
    is_retreatment: bool = False
    documented: frozenset[str] = frozenset()


def _validate_baselines(facts: EligibilityFacts, today: date) -> None:
    for i, b in enumerate(facts.baseline_scores):
        try:
            inst = scales.definition(b.instrument)
        except RuleInputError as exc:
            raise RuleInputError(f"baseline_scores[{i}].instrument", exc.message) from None
        if isinstance(b.total, bool) or not isinstance(b.total, int) or not 0 <= b.total <= inst.max_total:
            raise RuleInputError(f"baseline_scores[{i}].total", f"must be 0–{inst.max_total}, got {b.total!r}")
        require_not_future(f"baseline_scores[{i}].administered_on", b.administered_on, today)


def validate_facts(facts: EligibilityFacts, today: date) -> None:
    """Refuse impossible facts (future dates, stop before start, out-of-range values)."""
    if facts.age_years is not None and not 0 <= facts.age_years <= 130:
        raise RuleInputError("age_years", f"must be 0–130, got {facts.age_years}")
    _validate_baselines(facts, today)
    trials.assess(facts.medication_trials, today=today)
    for i, p in enumerate(facts.psychotherapy_trials):
        require_not_future(f"psychotherapy_trials[{i}].start_date", p.start_date, today)
        if p.stop_date is not None:
            require_not_future(f"psychotherapy_trials[{i}].stop_date", p.stop_date, today)
            require_order(f"psychotherapy_trials[{i}].stop_date", p.start_date, p.stop_date)
    for i, c in enumerate(facts.prior_courses):
        require_not_future(f"prior_courses[{i}].end_date", c.end_date, today)
        if not -1000 <= c.improvement_pct <= 100:
            raise RuleInputError(f"prior_courses[{i}].improvement_pct", f"must be ≤ 100, got {c.improvement_pct}")
