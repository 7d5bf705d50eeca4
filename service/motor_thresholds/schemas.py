"""Request and response shapes for motor-threshold determinations, freshness and Beam F3."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.core.stamp import NowOr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Method(enum.StrEnum):
    visual = "visual"  # overestimates MT by ~11% vs EMG (Westin 2014)
    emg_relative_frequency = "emg_relative_frequency"  # ≥ 50 µV in 5 of 10
    two_threshold = "two_threshold"
    ml_pest = "ml_pest"  # adaptive threshold hunting
    device_assisted = "device_assisted"


class Muscle(enum.StrEnum):
    APB = "APB"
    FDI = "FDI"
    ADM = "ADM"
    other = "other"


class MotorThresholdCreate(_Strict):
    determined_at: NowOr
    method: Method
    muscle: Muscle
    value_pct_mso: float = Field(gt=0, le=100, description="% of the device's maximum output")
    device_id: int = Field(ge=1, le=2_147_483_647, description="The stimulator the MT was determined on: an MT in "
                           "% of machine output doses only that stimulator and coil")
    coil: str | None = Field(default=None, max_length=60, description="Defaults to the device's coil")
    course_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    pulses_used: int | None = Field(default=None, ge=1, le=10_000)
    d_m1_mm: float | None = Field(default=None, gt=0, lt=100, description="Scalp-to-cortex distance over M1")
    d_target_mm: float | None = Field(default=None, gt=0, lt=100, description="Scalp-to-cortex distance at target")
    hotspot: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _both_depths(self) -> MotorThresholdCreate:
        if (self.d_m1_mm is None) != (self.d_target_mm is None):
            raise ValueError("give both d_m1_mm and d_target_mm for a depth adjustment, or neither")
        return self


class MotorThresholdPublic(BaseModel):
    id: int
    patient_id: int
    course_id: int | None
    determined_at: datetime
    method: str
    muscle: str
    device_id: int | None
    coil: str | None
    value_pct_mso: float
    pulses_used: int | None
    d_m1_mm: float | None
    d_target_mm: float | None
    adjusted_pct_mso: float | None
    hotspot: str | None
    notes: str | None
    operator_id: int
    created_at: datetime


class FreshnessPublic(BaseModel):
    stale: bool
    reasons: list[str]
    action: str
    redetermination_cpt: str
    determination: MotorThresholdPublic | None


class BeamF3Request(_Strict):
    tragus_tragus_cm: float = Field(gt=0, lt=100)
    nasion_inion_cm: float = Field(gt=0, lt=100)
    circumference_cm: float = Field(gt=0, lt=100)


class BeamF3Public(BaseModel):
    x_cm: float
    y_cm: float
    note: str
