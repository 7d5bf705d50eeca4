"""Pydantic models of ``medications.json`` and ``payer_criteria.json``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from config.clinical.base import FrozenModel, VersionedFile

# ---------------------------------------------------------------- medications


class Drug(FrozenModel):
    name: str
    drug_class: str
    role: Literal["antidepressant", "augmentation", "other"]
    min_effective_dose: float | None = None
    unit: str | None = None
    seizure_threshold_lowering: Literal["high", "low", "reported"] | None = None


class MedicationsFile(VersionedFile):
    default_min_trial_weeks: int = Field(gt=0)
    min_trial_weeks_source: str
    antidepressant_classes: tuple[str, ...]
    cns_active_classes: tuple[str, ...]
    cns_active_classes_source: str
    drugs: tuple[Drug, ...]

    def drug(self, name: str) -> Drug | None:
        """The drug entry for ``name`` (case-insensitive), or None."""
        wanted = name.strip().lower()
        return next((d for d in self.drugs if d.name == wanted), None)


# ---------------------------------------------------------------- payer criteria


class AgeCriterion(FrozenModel):
    id: str
    type: Literal["age"]
    min_years: int
    review_min_years: int | None = None


class DiagnosisCriterion(FrozenModel):
    id: str
    type: Literal["diagnosis"]
    icd10_codes: tuple[str, ...]
    description: str


class ScoreThreshold(FrozenModel):
    instrument: str
    op: Literal["ge", "gt"]
    value: int


class BaselineScaleCriterion(FrozenModel):
    id: str
    type: Literal["baseline_scale"]
    instruments: tuple[str, ...]
    thresholds: tuple[ScoreThreshold, ...] = ()
    description: str


class MedicationTrialsCriterion(FrozenModel):
    id: str
    type: Literal["medication_trials"]
    min_failed_trials: int = Field(ge=0)
    min_distinct_classes: int = Field(ge=0)
    min_weeks: int = Field(gt=0)
    min_augmentation_trials: int = Field(ge=0)
    allow_intolerance: bool
    alternatives: tuple[Literal["prior_tms_response", "ect_candidate"], ...] = ()


class PsychotherapyCriterion(FrozenModel):
    id: str
    type: Literal["psychotherapy"]
    description: str


class PsychiatristCriterion(FrozenModel):
    id: str
    type: Literal["psychiatrist_evaluation"]
    description: str


class ExclusionsCriterion(FrozenModel):
    id: str
    type: Literal["exclusions"]
    conditions: tuple[str, ...]


class DocumentationCriterion(FrozenModel):
    id: str
    type: Literal["documentation"]
    key: str
    description: str


class RetreatmentCriterion(FrozenModel):
    id: str
    type: Literal["retreatment"]
    min_prior_improvement_pct: float
    strict: bool
    min_sustained_days: int | None = None
    relapse_required: bool = True


Criterion = Annotated[
    AgeCriterion
    | DiagnosisCriterion
    | BaselineScaleCriterion
    | MedicationTrialsCriterion
    | PsychotherapyCriterion
    | PsychiatristCriterion
    | ExclusionsCriterion
    | DocumentationCriterion
    | RetreatmentCriterion,
    Field(discriminator="type"),
]


class CriteriaSet(FrozenModel):
    id: str
    name: str
    source: str
    max_sessions: int | None = None
    prior_authorization_not_required_from: str | None = None
    criteria: tuple[Criterion, ...]


class PayerCriteriaFile(VersionedFile):
    condition_vocabulary: dict[str, str]
    criteria_sets: tuple[CriteriaSet, ...]

    @model_validator(mode="after")
    def _known_conditions(self) -> PayerCriteriaFile:
        for cs in self.criteria_sets:
            for c in cs.criteria:
                if isinstance(c, ExclusionsCriterion):
                    unknown = set(c.conditions) - set(self.condition_vocabulary)
                    if unknown:
                        raise ValueError(f"{cs.id}: unknown exclusion conditions {sorted(unknown)}")
        return self
