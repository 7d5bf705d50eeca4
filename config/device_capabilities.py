"""What each stimulator model can deliver (repetitive trains, rate, theta burst, coil types), derived from the
device profiles in ``config/devices/`` that the drivers and the simulator read, so a capability lives in one place."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from config.device_profiles import available_models, load_profile


class ModelCapability(BaseModel):
    """One stimulator model's delivery limits relevant to choosing a protocol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repetitive: bool
    max_rate_hz: float = Field(gt=0)
    theta_burst: bool
    coils: tuple[str, ...]


class Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    models: dict[str, ModelCapability]


def capability_of(model: str) -> ModelCapability:
    """The capability of one model, read off its device profile."""
    profile = load_profile(model)
    return ModelCapability(repetitive=profile.supports_trains, max_rate_hz=profile.max_rate_hz,
                           theta_burst=profile.theta_burst, coils=profile.coils)


@lru_cache
def device_capabilities() -> Capabilities:
    """Every shipped model's capability (cached)."""
    return Capabilities(models={model: capability_of(model) for model in available_models()})
