"""Payer medical-necessity criteria: is this patient eligible for a TMS course under a criteria set?

Criteria sets are data (``config/clinical/payer_criteria.json``): Medicare LCD L37086- and
L34522/L34998-style, Aetna CPB 0469-, UnitedHealthcare/Optum-, Cigna/Evernorth EN0383- and
Centene CP.BH.200-style (docs/clinical-rules.md#medicare-lcds, #commercial-payers; mostly [S]: verify the current
policy before billing). Every criterion answers ``met``, ``not_met``, ``missing`` (evidence not on
file), ``needs_review`` (a case-by-case rule, e.g. Cigna/Centene ages 15–17) or ``not_applicable``,
with reasons, evidence and what is missing.

Public API::

    criteria_set_ids() -> tuple[str, ...]
    evaluate(criteria_set_id: str, facts: EligibilityFacts, today: date) -> EligibilityDecision

``EligibilityDecision.status`` is ``eligible`` only when every applicable criterion is met; otherwise
``not_eligible`` (a criterion fails), ``incomplete`` (evidence missing) or ``needs_review``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from config import clinical_data
from config.clinical_data import (
    AgeCriterion,
    BaselineScaleCriterion,
    CriteriaSet,
    DiagnosisCriterion,
    DocumentationCriterion,
    ExclusionsCriterion,
    MedicationTrialsCriterion,
    PsychiatristCriterion,
    PsychotherapyCriterion,
    RetreatmentCriterion,
)
from service.rules import scales, trials
from service.rules.eligibility_facts import (
    BaselineScore,
    EligibilityFacts,
    PriorCourse,
    PsychotherapyTrial,
    validate_facts,
)
from service.rules.errors import RuleInputError
from service.rules.trials import TrialAssessment

__all__ = [
    "BaselineScore",
    "CriterionResult",
    "EligibilityDecision",
    "EligibilityFacts",
    "PriorCourse",
    "PsychotherapyTrial",
    "criteria_set_ids",
    "evaluate",
]

Status = Literal["met", "not_met", "missing", "needs_review", "not_applicable"]


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's verdict with its reasons, the evidence used and what is missing."""

    id: str
    type: str
    status: Status
    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class EligibilityDecision:
    """The answer for one criteria set."""

    criteria_set_id: str
    criteria_set_name: str
    criteria_version: str
    eligible: bool
    status: Literal["eligible", "not_eligible", "incomplete", "needs_review"]
    criteria: tuple[CriterionResult, ...]
    trials: tuple[TrialAssessment, ...] = field(default=())


def criteria_set_ids() -> tuple[str, ...]:
    """Ids of every criteria set in the data file."""
    return tuple(cs.id for cs in clinical_data.payer_criteria().criteria_sets)


def _criteria_set(criteria_set_id: str) -> CriteriaSet:
    for cs in clinical_data.payer_criteria().criteria_sets:
        if cs.id == criteria_set_id:
            return cs
    known = ", ".join(criteria_set_ids())
    raise RuleInputError("criteria", f"unknown criteria set {criteria_set_id!r}; known: {known}")


def _age(c: AgeCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    if f.age_years is None:
        return CriterionResult(c.id, c.type, "missing", ("age not recorded",), missing=("age",))
    ev = (f"age {f.age_years}",)
    if f.age_years >= c.min_years:
        return CriterionResult(c.id, c.type, "met", (f"age {f.age_years} ≥ {c.min_years}",), ev)
    if c.review_min_years is not None and f.age_years >= c.review_min_years:
        why = f"age {f.age_years} is {c.review_min_years}–{c.min_years - 1}: case-by-case review under this policy"
        return CriterionResult(c.id, c.type, "needs_review", (why,), ev)
    return CriterionResult(c.id, c.type, "not_met", (f"age {f.age_years} < {c.min_years}",), ev)


def _diagnosis(c: DiagnosisCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    codes = {code.strip().upper() for code in f.diagnosis_codes}
    if not codes:
        return CriterionResult(c.id, c.type, "missing", ("no diagnosis code recorded",), missing=("diagnosis_codes",))
    hits = sorted(codes & set(c.icd10_codes))
    if hits:
        return CriterionResult(c.id, c.type, "met", (f"{', '.join(hits)} accepted: {c.description}",), tuple(hits))
    why = f"{', '.join(sorted(codes))} not among accepted codes {', '.join(c.icd10_codes)} ({c.description})"
    return CriterionResult(c.id, c.type, "not_met", (why,), tuple(sorted(codes)))


def _passes(op: str, total: int, value: int) -> bool:
    return total >= value if op == "ge" else total > value


def _baseline(c: BaselineScaleCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    accepted = [b for b in f.baseline_scores if scales.definition(b.instrument).id in c.instruments]
    ev = tuple(f"{b.instrument} {b.total} on {b.administered_on.isoformat()}" for b in accepted)
    if not c.thresholds:
        if accepted:
            return CriterionResult(c.id, c.type, "met", ("baseline score on a validated scale on file",), ev)
        return CriterionResult(
            c.id, c.type, "missing", (c.description,), missing=(f"baseline score ({', '.join(c.instruments)})",)
        )
    relevant = [(t, b) for t in c.thresholds for b in accepted if scales.definition(b.instrument).id == t.instrument]
    if any(_passes(t.op, b.total, t.value) for t, b in relevant):
        return CriterionResult(c.id, c.type, "met", (c.description,), ev)
    if relevant:
        return CriterionResult(c.id, c.type, "not_met", (f"{c.description}: baseline below threshold",), ev)
    wanted = ", ".join(f"{t.instrument} {'≥' if t.op == 'ge' else '>'} {t.value}" for t in c.thresholds)
    return CriterionResult(c.id, c.type, "missing", (c.description,), ev, missing=(f"baseline {wanted}",))


def _alternatives(c: MedicationTrialsCriterion, f: EligibilityFacts) -> list[str]:
    found = []
    if "prior_tms_response" in c.alternatives and any(p.improvement_pct > 50 for p in f.prior_courses):
        found.append("prior TMS course with > 50% improvement")
    if "ect_candidate" in c.alternatives and f.ect_status in ("candidate", "receiving"):
        found.append(f"ECT status: {f.ect_status}")
    return found


def _medication(c: MedicationTrialsCriterion, f: EligibilityFacts, today: date) -> CriterionResult:
    summary = trials.assess(f.medication_trials, today=today, min_weeks=c.min_weeks)
    counted = summary.counted(allow_intolerance=c.allow_intolerance)
    classes = summary.distinct_classes(allow_intolerance=c.allow_intolerance)
    aug = summary.counted(allow_intolerance=c.allow_intolerance, augmentation=True)
    checks = [
        (len(counted) >= c.min_failed_trials, f"{len(counted)} of {c.min_failed_trials} failed adequate trials"),
        (len(classes) >= c.min_distinct_classes, f"{len(classes)} of {c.min_distinct_classes} distinct classes"),
        (len(aug) >= c.min_augmentation_trials, f"{len(aug)} of {c.min_augmentation_trials} augmentation trials"),
    ]
    reasons = tuple(("✓ " if ok else "✗ ") + text for ok, text in checks) + (f"adequate = ≥ {c.min_weeks} weeks",)
    evidence = tuple(f"{t.drug} ({t.drug_class}): {'; '.join(t.reasons)}" for t in summary.trials)
    if all(ok for ok, _ in checks):
        return CriterionResult(c.id, c.type, "met", reasons, evidence)
    alternatives = _alternatives(c, f)
    if alternatives:
        return CriterionResult(c.id, c.type, "met", reasons + tuple(f"met by alternative: {a}" for a in alternatives))
    incomplete = [t for t in summary.trials if t.incomplete]
    if not summary.trials or incomplete:
        missing = tuple(f"medication_trials[{t.index}] ({t.drug}): dose or outcome" for t in incomplete) or (
            "medication history for the current episode",
        )
        return CriterionResult(c.id, c.type, "missing", reasons, evidence, missing)
    return CriterionResult(c.id, c.type, "not_met", reasons, evidence)


def _psychotherapy(c: PsychotherapyCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    ev = tuple(
        f"{p.modality} from {p.start_date.isoformat()}: {p.outcome or 'outcome not recorded'}"
        for p in f.psychotherapy_trials
    )
    if any(p.outcome in ("no_improvement", "partial") for p in f.psychotherapy_trials):
        return CriterionResult(c.id, c.type, "met", (c.description,), ev)
    if not f.psychotherapy_trials or any(p.outcome is None for p in f.psychotherapy_trials):
        return CriterionResult(c.id, c.type, "missing", (c.description,), ev, ("psychotherapy trial and outcome",))
    return CriterionResult(c.id, c.type, "not_met", (f"{c.description}: the recorded trial improved",), ev)


def _psychiatrist(c: PsychiatristCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    if f.psychiatrist_evaluation is None:
        return CriterionResult(c.id, c.type, "missing", (c.description,), missing=("psychiatrist evaluation",))
    status: Status = "met" if f.psychiatrist_evaluation else "not_met"
    return CriterionResult(c.id, c.type, status, (c.description,))


def _exclusions(c: ExclusionsCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    vocab = clinical_data.payer_criteria().condition_vocabulary
    present = [vocab[k] for k in c.conditions if f.conditions.get(k) is True]
    unknown = [vocab[k] for k in c.conditions if k not in f.conditions]
    if present:
        return CriterionResult(c.id, c.type, "not_met", tuple(f"excluded: {p}" for p in present), tuple(present))
    if unknown:
        return CriterionResult(c.id, c.type, "missing", ("exclusions not all assessed",), missing=tuple(unknown))
    absent = tuple(f"absent: {vocab[k]}" for k in c.conditions)
    return CriterionResult(c.id, c.type, "met", ("no exclusion present",), absent)


def _documentation(c: DocumentationCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    if c.key in f.documented:
        return CriterionResult(c.id, c.type, "met", (c.description,), (c.key,))
    return CriterionResult(c.id, c.type, "missing", (c.description,), missing=(c.key,))


def _prior_ok(c: RetreatmentCriterion, p: PriorCourse) -> bool:
    pct = p.improvement_pct
    return pct > c.min_prior_improvement_pct if c.strict else pct >= c.min_prior_improvement_pct


def _retreatment(c: RetreatmentCriterion, f: EligibilityFacts, _: date) -> CriterionResult:
    if not f.is_retreatment:
        return CriterionResult(c.id, c.type, "not_applicable", ("not a retreatment course",))
    sign = ">" if c.strict else "≥"
    need = [f"prior improvement {sign} {c.min_prior_improvement_pct:g}%"]
    if c.min_sustained_days:
        need.append(f"sustained ≥ {c.min_sustained_days} days")
    if c.relapse_required:
        need.append("documented relapse")
    ev = tuple(f"course ended {p.end_date.isoformat()}: {p.improvement_pct:g}%" for p in f.prior_courses)
    good = [p for p in f.prior_courses if _prior_ok(c, p)]
    if not f.prior_courses:
        return CriterionResult(c.id, c.type, "missing", tuple(need), missing=("prior TMS course outcome",))
    if not good:
        return CriterionResult(c.id, c.type, "not_met", tuple(need), ev)
    missing = []
    for p in good:
        sustained = not c.min_sustained_days or (p.sustained_days or 0) >= c.min_sustained_days
        relapse = not c.relapse_required or p.relapsed is True
        if sustained and relapse:
            return CriterionResult(c.id, c.type, "met", tuple(need), ev)
        if c.min_sustained_days and p.sustained_days is None:
            missing.append("duration the prior response was sustained")
        if c.relapse_required and p.relapsed is None:
            missing.append("relapse documentation")
    if missing:
        return CriterionResult(c.id, c.type, "missing", tuple(need), ev, tuple(dict.fromkeys(missing)))
    return CriterionResult(c.id, c.type, "not_met", tuple(need), ev)


_EVALUATORS: Mapping[str, Callable[[Any, EligibilityFacts, date], CriterionResult]] = {
    "age": _age,
    "diagnosis": _diagnosis,
    "baseline_scale": _baseline,
    "medication_trials": _medication,
    "psychotherapy": _psychotherapy,
    "psychiatrist_evaluation": _psychiatrist,
    "exclusions": _exclusions,
    "documentation": _documentation,
    "retreatment": _retreatment,
}


def _overall(results: tuple[CriterionResult, ...]) -> Literal["eligible", "not_eligible", "incomplete", "needs_review"]:
    statuses = {r.status for r in results}
    if "not_met" in statuses:
        return "not_eligible"
    if "missing" in statuses:
        return "incomplete"
    if "needs_review" in statuses:
        return "needs_review"
    return "eligible"


def _min_weeks(cs: CriteriaSet) -> int | None:
    return next((c.min_weeks for c in cs.criteria if isinstance(c, MedicationTrialsCriterion)), None)


def evaluate(criteria_set_id: str, facts: EligibilityFacts, today: date) -> EligibilityDecision:
    """Evaluate ``facts`` against one criteria set; every criterion explains itself."""
    cs = _criteria_set(criteria_set_id)
    validate_facts(facts, today)
    results = tuple(_EVALUATORS[c.type](c, facts, today) for c in cs.criteria)
    status = _overall(results)
    return EligibilityDecision(
        criteria_set_id=cs.id,
        criteria_set_name=cs.name,
        criteria_version=clinical_data.payer_criteria().version,
        eligible=status == "eligible",
        status=status,
        criteria=results,
        trials=trials.assess(facts.medication_trials, today=today, min_weeks=_min_weeks(cs)).trials,
    )
