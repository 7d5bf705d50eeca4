"""Antidepressant trial history: adequacy of each trial and the counts TRD criteria use.

A trial is a *failed adequate trial* when the daily dose is at or above the drug's minimum effective
dose (``config/clinical/medications.json``, values [U]: verify) for at least the minimum duration
(default 6 weeks; older payer language ≥ 6 weeks [C], Cigna ≥ 4 weeks [S]) and the outcome
was no or partial response. A documented *intolerance* (with the side effect named) counts whatever
the dose or duration. Reference: docs/clinical-rules.md#trd-definition, #medication-trials.

Public API::

    MedicationTrial(drug, daily_dose, start_date, stop_date=None, outcome=None, side_effect=None,
                    augmentation=False, drug_class=None)
    assess(trials, *, today, min_weeks=None, field="medication_trials") -> TrialSummary
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from config import clinical_data
from service.rules.errors import RuleInputError, require_not_future, require_order

Outcome = Literal["no_response", "partial_response", "response", "intolerance"]
OUTCOMES: tuple[str, ...] = ("no_response", "partial_response", "response", "intolerance")
FAILED_OUTCOMES = ("no_response", "partial_response")


@dataclass(frozen=True)
class MedicationTrial:
    """One drug trial in the current depressive episode (``stop_date`` None: still taking it)."""

    drug: str
    daily_dose: float | None
    start_date: date
    stop_date: date | None = None
    outcome: Outcome | None = None
    side_effect: str | None = None
    augmentation: bool = False
    drug_class: str | None = None


@dataclass(frozen=True)
class TrialAssessment:
    """How one trial counts, with the reasons."""

    index: int
    drug: str
    drug_class: str | None
    role: str
    duration_days: int
    adequate_dose: bool | None
    adequate_duration: bool
    failed_adequate: bool
    intolerance: bool
    incomplete: bool
    reasons: tuple[str, ...]

    @property
    def counts(self) -> bool:
        """True when the trial counts as a failure (adequate non-response or documented intolerance)."""
        return self.failed_adequate or self.intolerance


@dataclass(frozen=True)
class TrialSummary:
    """Counts over all trials; augmentation trials are counted apart from the antidepressant trials."""

    trials: tuple[TrialAssessment, ...]
    min_weeks: int

    def counted(self, *, allow_intolerance: bool = True, augmentation: bool = False) -> list[TrialAssessment]:
        """Trials that count as failures, either antidepressant or augmentation trials."""
        wanted = "augmentation" if augmentation else "antidepressant"
        return [
            t for t in self.trials if t.role == wanted and (t.failed_adequate or (allow_intolerance and t.intolerance))
        ]

    def distinct_classes(self, *, allow_intolerance: bool = True) -> set[str]:
        """Drug classes among the counted antidepressant trials."""
        return {t.drug_class for t in self.counted(allow_intolerance=allow_intolerance) if t.drug_class}


def _validate(trial: MedicationTrial, field: str, today: date) -> None:
    if not isinstance(trial.drug, str) or not trial.drug.strip():
        raise RuleInputError(f"{field}.drug", "drug name is required")
    if trial.daily_dose is not None and trial.daily_dose <= 0:
        raise RuleInputError(f"{field}.daily_dose", f"must be above 0, got {trial.daily_dose}")
    require_not_future(f"{field}.start_date", trial.start_date, today)
    if trial.stop_date is not None:
        require_not_future(f"{field}.stop_date", trial.stop_date, today)
        require_order(f"{field}.stop_date", trial.start_date, trial.stop_date)
    if trial.outcome is not None and trial.outcome not in OUTCOMES:
        raise RuleInputError(f"{field}.outcome", f"must be one of {', '.join(OUTCOMES)}, got {trial.outcome!r}")


def _class_and_role(trial: MedicationTrial) -> tuple[str | None, str, float | None]:
    """Drug class, role (antidepressant / augmentation / other / unknown) and minimum effective dose."""
    table = clinical_data.medications()
    entry = table.drug(trial.drug)
    drug_class = entry.drug_class if entry else trial.drug_class  # the table's class wins
    role = entry.role if entry else ("antidepressant" if drug_class in table.antidepressant_classes else "unknown")
    if trial.augmentation:
        role = "augmentation"
    return drug_class, role, entry.min_effective_dose if entry else None


def _dose_check(trial: MedicationTrial, min_dose: float | None) -> tuple[bool | None, str]:
    if trial.daily_dose is None:
        return None, "dose not recorded"
    if min_dose is None:
        return None, f"no minimum effective dose on file for {trial.drug}: needs manual review"
    ok = trial.daily_dose >= min_dose
    return ok, f"dose {trial.daily_dose:g} {'≥' if ok else '<'} minimum effective {min_dose:g}"


def assess_trial(trial: MedicationTrial, index: int, *, today: date, min_weeks: int, field: str) -> TrialAssessment:
    """Assess one trial's adequacy and whether it counts as a failure."""
    _validate(trial, field, today)
    drug_class, role, min_dose = _class_and_role(trial)
    days = ((trial.stop_date or today) - trial.start_date).days
    adequate_dose, dose_reason = _dose_check(trial, min_dose)
    adequate_duration = days >= 7 * min_weeks
    reasons = [dose_reason, f"duration {days} days {'≥' if adequate_duration else '<'} {min_weeks} weeks"]
    failed = bool(adequate_dose) and adequate_duration and trial.outcome in FAILED_OUTCOMES
    intolerance = trial.outcome == "intolerance" and bool(trial.side_effect and trial.side_effect.strip())
    if trial.outcome == "intolerance" and not intolerance:
        reasons.append("intolerance recorded without the side effect: document it to count this trial")
    if trial.outcome is None:
        reasons.append("outcome not recorded")
    if role in ("other", "unknown"):
        reasons.append(f"{trial.drug} ({drug_class or 'class unknown'}) is not counted as an antidepressant trial")
    incomplete = trial.outcome is None or (adequate_dose is None and trial.outcome != "intolerance")
    return TrialAssessment(
        index=index,
        drug=trial.drug.strip().lower(),
        drug_class=drug_class,
        role=role,
        duration_days=days,
        adequate_dose=adequate_dose,
        adequate_duration=adequate_duration,
        failed_adequate=failed,
        intolerance=intolerance,
        incomplete=incomplete,
        reasons=tuple(reasons),
    )


def assess(
    trials: Sequence[MedicationTrial],
    *,
    today: date,
    min_weeks: int | None = None,
    field: str = "medication_trials",
) -> TrialSummary:
    """Assess every trial; ``min_weeks`` defaults to the data file's minimum trial duration."""
    weeks = min_weeks if min_weeks is not None else clinical_data.medications().default_min_trial_weeks
    assessed = tuple(
        assess_trial(t, i, today=today, min_weeks=weeks, field=f"{field}[{i}]") for i, t in enumerate(trials)
    )
    return TrialSummary(trials=assessed, min_weeks=weeks)
