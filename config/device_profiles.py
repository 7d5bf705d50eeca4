"""Stimulator device profiles: limits and link settings read from ``config/devices/*.json``.

Every number here is a hardware fact from docs/device-protocols.md (section named in each
file's ``source``) or a documented inference; the drivers and the simulator both read them, so a
limit lives in exactly one place.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

DEVICES_DIR = Path(__file__).resolve().parent / "devices"

Family = Literal["magstim", "magventure"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SerialSettings(_Frozen):
    """Line settings (docs/device-protocols.md §1.1, §2.1)."""

    baudrate: int
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1


class Keepalive(_Frozen):
    """Remote-control keep-alive (docs/device-protocols.md §1.8): timeouts on the unit, cadence on the host."""

    armed_timeout_s: float
    standby_timeout_s: float
    armed_interval_s: float
    standby_interval_s: float


class RechargeStep(_Frozen):
    """Recharge time after a single pulse for powers below ``below_percent`` (docs/device-protocols.md §1.8)."""

    below_percent: int
    seconds: float


class FrequencyCurve(_Frozen):
    """Rapid² maximum frequency by power for one supply and system type (docs/device-protocols.md §1.9)."""

    flat_hz: float
    flat_until_percent: int
    points: dict[int, float]

    def max_hz(self, power: int) -> float:
        """Limit at ``power``; between published points the next higher power's limit (conservative)."""
        if power <= self.flat_until_percent:
            return self.flat_hz
        for point in sorted(self.points):
            if power <= point:
                return self.points[point]
        return self.points[max(self.points)]


class RapidLimits(_Frozen):
    """Rapid² energy and duty limits (docs/device-protocols.md §1.9, TDb087 §3)."""

    duty_limit_j_per_min: float
    continuous_power_w: float
    min_wait_s: float
    max_pulses: dict[str, int]
    max_duration_s: dict[str, float]
    energy_fit_j_per_percent_squared: float
    energy_points_j: dict[int, float]
    max_frequency_hz: dict[str, dict[str, FrequencyCurve]]
    absolute_max_frequency_hz: dict[str, float]

    def energy_j(self, power: int) -> float:
        """Energy per pulse at ``power`` %: the published point, else the quadratic fit through them."""
        if power in self.energy_points_j:
            return self.energy_points_j[power]
        return round(self.energy_fit_j_per_percent_squared * power * power, 1)

    def max_on_time_s(self, power: int, frequency_hz: float) -> float:
        """Longest train the 63,000 J/min duty limit allows: 63000 / (E·f)."""
        return self.duty_limit_j_per_min / (self.energy_j(power) * frequency_hz)

    def min_wait_between_trains_s(self, power: int, frequency_hz: float, pulses: int) -> float:
        """t_wait = N·(f·E − 1050) / (1050·f), never below the 0.5 s absolute minimum."""
        energy = self.energy_j(power)
        p_cont = self.continuous_power_w
        wait = pulses * (frequency_hz * energy - p_cont) / (p_cont * frequency_hz)
        return max(self.min_wait_s, wait)

    def max_frequency(self, power: int, supply: str = "240", system: str = "rapid") -> float:
        """Highest train frequency at ``power`` for this supply voltage and system type."""
        curve = self.max_frequency_hz[supply][system]
        return min(curve.max_hz(power), self.absolute_max_frequency_hz[supply])

    def firmware_key(self, firmware_major: int) -> str:
        """Key into the ``before_v9``/``from_v9`` tables for a firmware major version."""
        return "from_v9" if firmware_major >= 9 else "before_v9"


class BiStimLimits(_Frozen):
    """BiStim² inter-pulse interval ranges (docs/device-protocols.md §1.4, command ``C``)."""

    max_interval_low_res_ms: float
    max_interval_high_res_ms: float


class MagVentureLimits(_Frozen):
    """MagPro model capabilities (docs/device-protocols.md §2.3 pytms limits, MAGIC train ranges)."""

    model_code: int
    max_rate_pps: float
    max_burst_rate_pps: float
    waveforms: list[str]
    modes: list[str]
    max_pulses_per_train: int
    max_trains: int
    iti_range_s: tuple[float, float]
    min_rate_pps: float


class DeviceProfile(_Frozen):
    """Everything the driver and the simulator need to know about one stimulator model."""

    model: str
    family: Family
    display_name: str
    source: str
    serial: SerialSettings
    channels: list[str]
    max_output_percent: int
    supports_trains: bool
    theta_burst: bool
    coils: tuple[str, ...]
    max_single_pulse_rate_hz: float
    coil_cutoff_c: float
    arm_ready_s: float
    auto_disarm_s: float
    keepalive: Keepalive | None = None
    recharge_s: list[RechargeStep] = []
    rapid: RapidLimits | None = None
    bistim: BiStimLimits | None = None
    magventure: MagVentureLimits | None = None

    @property
    def max_rate_hz(self) -> float:
        """The highest pulse rate the unit delivers: its train ceiling, or its single-pulse rate without trains."""
        if self.magventure is not None:
            return self.magventure.max_rate_pps
        if self.rapid is not None:
            return max(self.rapid.absolute_max_frequency_hz.values())
        return self.max_single_pulse_rate_hz

    def recharge_time_s(self, power: int) -> float:
        """Recharge time after one pulse at ``power`` %."""
        for step in self.recharge_s:
            if power < step.below_percent:
                return step.seconds
        return self.recharge_s[-1].seconds if self.recharge_s else 0.0


@lru_cache
def available_models() -> tuple[str, ...]:
    """Names of every device profile shipped in ``config/devices`` (cached: the files ship with the code, and
    capability checks ask for every chair and protocol of a plan)."""
    return tuple(sorted(path.stem for path in DEVICES_DIR.glob("*.json")))


@lru_cache
def load_profile(model: str) -> DeviceProfile:
    """The profile for ``model`` (e.g. ``magstim-rapid2``); unknown names raise ``KeyError``."""
    path = DEVICES_DIR / f"{model}.json"
    if not path.is_file():
        raise KeyError(f"unknown stimulator model {model!r}; known: {', '.join(available_models())}")
    return DeviceProfile.model_validate(json.loads(path.read_text(encoding="utf-8")))
