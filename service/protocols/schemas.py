"""Request and response shapes for protocol validation and signed overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProtocolParamsIn(_Strict):
    """Requested stimulation parameters (theta burst: the three burst fields, no frequency)."""

    intensity_pct_mt: float = Field(gt=0, le=200)
    train_duration_s: float = Field(gt=0, le=3600)
    iti_s: float = Field(ge=0, le=3600)
    trains: int = Field(ge=1, le=10_000)
    frequency_hz: float | None = Field(default=None, gt=0, le=100)
    pattern: Literal["simple", "theta_burst"] = "simple"
    pulses_per_burst: int | None = Field(default=None, ge=1, le=10)
    burst_frequency_hz: float | None = Field(default=None, gt=0, le=100)
    burst_rate_hz: float | None = Field(default=None, gt=0, le=100)
    coil: str = Field(default="figure8", min_length=1, max_length=40)
    intensity_basis: Literal["rMT", "rMT_depth_adjusted"] = "rMT"


class ViolationPublic(BaseModel):
    rule: str
    limit: float | str | None
    value: float | str | None
    message: str


class ValidationPublic(BaseModel):
    ok: bool
    violations: list[ViolationPublic]


class OverrideCreate(_Strict):
    parameters: ProtocolParamsIn
    reason: str = Field(min_length=5, max_length=2000, description="Why these parameters are acceptable")
    printed_name: str = Field(min_length=1, max_length=200, description="The signer's printed name")
    password: str = Field(min_length=1, max_length=1024, description="The signer re-enters their password")
    patient_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    course_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class OverridePublic(BaseModel):
    id: int
    patient_id: int | None
    course_id: int | None
    parameters: dict[str, Any]
    parameters_sha256: str
    violations: list[ViolationPublic]
    reason: str
    meaning: str
    signed_by: int
    printed_name: str
    signed_at: datetime
