"""Value types the chair agent exchanges with a stimulator: identity, status, protocol, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Identity:
    """What the device says it is."""

    model: str
    family: str
    display_name: str
    firmware: str | None = None
    serial_number: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceStatus:
    """A snapshot of the device state, in family-neutral terms."""

    armed: bool
    ready: bool
    coil_present: bool
    remote: bool | None = None
    coil_temperature_c: float | None = None
    intensity_a: int | None = None
    intensity_b: int | None = None
    train_running: bool = False
    fault: str | None = None

    @property
    def state(self) -> Literal["disarmed", "armed", "ready"]:
        """``ready`` (can fire), ``armed`` (charging) or ``disarmed``."""
        return "ready" if self.ready else "armed" if self.armed else "disarmed"


@dataclass(frozen=True)
class TrainProtocol:
    """A prescribed stimulation protocol.

    ``frequency_hz`` is the pulse rate, or the burst rate when ``burst_pulses`` > 1 (e.g. iTBS:
    5 Hz bursts of 3 pulses 20 ms apart); ``pulses_per_train`` always counts pulses, not bursts;
    ``inter_train_interval_s`` is the pause from the end of one train to the start of the next.
    """

    intensity_percent: int
    frequency_hz: float
    pulses_per_train: int
    trains: int
    inter_train_interval_s: float
    burst_pulses: int = 1
    burst_ipi_ms: float | None = None
    channel: str = "A"

    @property
    def total_pulses(self) -> int:
        """Pulses the whole protocol delivers."""
        return self.pulses_per_train * self.trains

    @property
    def train_duration_s(self) -> float:
        """Seconds from the first to past the last pulse of one train (bursts × 1/rate)."""
        return self.pulses_per_train / self.burst_pulses / self.frequency_hz


@dataclass(frozen=True)
class ProgrammedParameters:
    """Parameters as read back from the device; ``None`` where the device does not hold the value."""

    intensity_a: int | None
    intensity_b: int | None = None
    frequency_hz: float | None = None
    pulses_per_train: int | None = None
    trains: int | None = None
    inter_train_interval_s: float | None = None
    burst_pulses: int | None = None
    burst_ipi_ms: float | None = None

    def differences(self, protocol: TrainProtocol) -> list[str]:
        """Human-readable mismatches against ``protocol`` (fields the device does not hold are skipped)."""
        wanted: dict[str, Any] = {
            "intensity_a": protocol.intensity_percent,
            "frequency_hz": protocol.frequency_hz,
            "pulses_per_train": protocol.pulses_per_train,
            "trains": protocol.trains,
            "inter_train_interval_s": protocol.inter_train_interval_s,
            "burst_pulses": protocol.burst_pulses,
            "burst_ipi_ms": protocol.burst_ipi_ms if protocol.burst_pulses > 1 else None,
        }
        found = []
        for name, value in wanted.items():
            actual = getattr(self, name)
            if actual is None or value is None:
                continue
            if abs(float(actual) - float(value)) > 1e-6:
                found.append(f"{name}: prescribed {value}, device has {actual}")
        return found

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for events and the service)."""
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class TrainRecord:
    """One train as delivered."""

    train: int
    planned_pulses: int | None
    delivered_pulses: int = 0
    completed: bool = False
    estimated: bool = False
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class DeliveryReport:
    """What a protocol run (control mode) or an observation (record mode) delivered."""

    mode: Literal["control", "record"]
    planned_pulses: int | None
    delivered_pulses: int = 0
    trains: list[TrainRecord] = field(default_factory=list)
    completed: bool = False
    reason: str | None = None
    parameters: ProgrammedParameters | None = None
