"""Pydantic models of the screening, checklist, protocol, safety-table, MT and AE files."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.clinical.base import FrozenModel, VersionedFile

# ---------------------------------------------------------------- screening and checklist

Category = Literal["absolute", "relative", "none"]


class ScreeningItem(FrozenModel):
    id: str
    text: str
    on_yes: Category
    source: str


class ScreeningFile(VersionedFile):
    answers: tuple[str, ...]
    # "on_yes": an unsure answer counts as a yes (the item's own category) until the checked answer is recorded.
    unsure_maps_to: Literal["on_yes"] | Category
    unsure_source: str | None = None
    items: tuple[ScreeningItem, ...]


class ChecklistItem(FrozenModel):
    id: str
    text: str
    blocking_answer: Literal["yes", "no"] | None = None
    flag_on_yes: str | None = None
    # Why a "yes" needs a clinician's acknowledgement with a note before the session starts (None: it does not).
    review_on_yes: str | None = None


class ChecklistFile(VersionedFile):
    items: tuple[ChecklistItem, ...]


# ---------------------------------------------------------------- protocols and the safety table


class Burst(FrozenModel):
    pulses_per_burst: int = Field(gt=0)
    burst_frequency_hz: float = Field(gt=0)
    burst_rate_hz: float = Field(gt=0)


class Clearance(FrozenModel):
    reference: str | None
    holder: str
    date: str | None


class Protocol(FrozenModel):
    id: str
    name: str
    pattern: Literal["simple", "theta_burst"]
    frequency_hz: float | None
    burst: Burst | None
    pulses_per_train: int = Field(gt=0)
    train_duration_s: float = Field(gt=0)
    iti_s: float = Field(ge=0)
    trains: int = Field(gt=0)
    total_pulses: int = Field(gt=0)
    session_duration_s: float = Field(gt=0)
    intensity_pct: float = Field(gt=0)
    intensity_basis: Literal["rMT", "rMT_depth_adjusted"]
    coil: str
    target: str
    sessions_per_day: int = Field(gt=0)
    min_interval_minutes: int | None = None
    course_template_id: str | None = None
    clearance: Clearance | None
    status: Literal["cleared", "guideline_off_label", "custom"]
    whitelisted: bool
    source: str
    notes: str | None = None

    @model_validator(mode="after")
    def _pattern_fields(self) -> Protocol:
        if self.pattern == "simple" and self.frequency_hz is None:
            raise ValueError(f"{self.id}: a simple protocol needs frequency_hz")
        if self.pattern == "theta_burst" and self.burst is None:
            raise ValueError(f"{self.id}: a theta-burst protocol needs burst")
        return self


class ProtocolsFile(VersionedFile):
    interval_measured_from: Literal["start", "end"]
    interval_measured_from_source: str
    protocols: tuple[Protocol, ...]


class SafetyCell(FrozenModel):
    max_train_s: float = Field(gt=0)
    max_pulses: int = Field(gt=0)
    longest_tested: bool
    verified: bool


class SafetyRow(FrozenModel):
    frequency_hz: float = Field(gt=0)
    cells: tuple[SafetyCell, ...]


class InterTrainRule(FrozenModel):
    min_iti_s: float
    applies_above_hz: float
    unsafe_iti_s: float
    # Trains closer together than this count as one continuous train against the single-train table.
    continuous_below_iti_s: float = Field(ge=0)
    source: str
    continuous_source: str


class SafetyTableFile(VersionedFile):
    intensities_pct: tuple[float, ...]
    rows: tuple[SafetyRow, ...]
    covered_coils: tuple[str, ...]
    safety_margin_factor: float = Field(gt=0, le=1)
    safety_margin_source: str
    inter_train: InterTrainRule

    @model_validator(mode="after")
    def _complete(self) -> SafetyTableFile:
        if list(self.intensities_pct) != sorted(self.intensities_pct):
            raise ValueError("safety table intensities must ascend")
        freqs = [r.frequency_hz for r in self.rows]
        if freqs != sorted(freqs):
            raise ValueError("safety table rows must ascend by frequency")
        if any(len(r.cells) != len(self.intensities_pct) for r in self.rows):
            raise ValueError("every safety-table row needs one cell per intensity")
        return self


# ---------------------------------------------------------------- motor threshold


class FreshnessPolicy(FrozenModel):
    max_age_days: int = Field(gt=0)
    max_sessions: int = Field(gt=0)
    max_gap_days: int = Field(gt=0)
    age_rule: str
    session_rule: str
    gap_rule: str
    event_triggers: tuple[str, ...]
    medication_change_classes_from: str
    unknown_drug_counts_as_cns_active: bool
    action: Literal["block", "warn"]
    redetermination_cpt: str


class DepthAdjustment(FrozenModel):
    pct_per_mm: float = Field(gt=0)
    source: str
    alt_pct_per_mm: float | None = None


class BeamF3Constants(FrozenModel):
    variant: str
    radius_factor: float
    angle_a_deg: float
    angle_b_deg: float
    y_factor: float
    source: str


class MotorThresholdFile(VersionedFile):
    freshness: FreshnessPolicy
    depth_adjustment: DepthAdjustment
    beam_f3: BeamF3Constants


# ---------------------------------------------------------------- adverse events


class AETerm(FrozenModel):
    code: str
    label: str
    serious_by_default: bool
    expected: bool
    min_grade: int | None = None


class EventReporting(FrozenModel):
    work_days: int | None
    recipients: tuple[str, ...]
    recipients_if_manufacturer_unknown: tuple[str, ...] = ()


class FacilityReporting(FrozenModel):
    mandatory: bool
    form: str
    events: dict[Literal["death", "serious_injury"], EventReporting]


class Reporting(FrozenModel):
    source: str
    facility_types: dict[str, FacilityReporting]


class AdverseEventsFile(VersionedFile):
    terms: tuple[AETerm, ...]
    grades: dict[int, str]
    seriousness_criteria: dict[str, str]
    relatedness: tuple[str, ...]
    actions: tuple[str, ...]
    outcomes: tuple[str, ...]
    reporting: Reporting
