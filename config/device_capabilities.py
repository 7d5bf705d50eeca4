"""What each stimulator model can deliver (repetitive trains, rate, theta burst, coil types), as data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

CAPABILITIES_PATH = Path(__file__).resolve().parent / "device_capabilities.json"


class ModelCapability(BaseModel):
    """One stimulator model's delivery limits relevant to choosing a protocol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repetitive: bool
    max_rate_hz: float = Field(gt=0)
    theta_burst: bool
    coils: tuple[str, ...]


class CapabilitiesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    source: str
    models: dict[str, ModelCapability]


@lru_cache
def device_capabilities(path: Path = CAPABILITIES_PATH) -> CapabilitiesFile:
    """The capability table (cached)."""
    return CapabilitiesFile.model_validate_json(path.read_text(encoding="utf-8"))
