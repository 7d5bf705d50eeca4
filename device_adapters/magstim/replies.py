"""Typed Magstim replies and status bytes (docs/device-protocols.md §1.5, §1.7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


def _bit(value: int, index: int) -> bool:
    return bool(value >> index & 1)


@dataclass(frozen=True)
class InstrumentStatus:
    """Instrument status byte (TDb086 §5, TDb087 §7; docs/device-protocols.md §1.5)."""

    raw: int

    standby = property(lambda self: _bit(self.raw, 0))
    armed_bit = property(lambda self: _bit(self.raw, 1))
    ready = property(lambda self: _bit(self.raw, 2))
    coil_present = property(lambda self: _bit(self.raw, 3))
    replace_coil = property(lambda self: _bit(self.raw, 4))
    error = property(lambda self: _bit(self.raw, 5))
    fatal = property(lambda self: _bit(self.raw, 6))
    remote = property(lambda self: _bit(self.raw, 7))

    @property
    def armed(self) -> bool:
        """Armed or ready: the armed bit drops once ready is set (docs/device-protocols.md §1.5)."""
        return self.armed_bit or self.ready


@dataclass(frozen=True)
class RapidStatus:
    """Rapid status byte (TDb087 §8; docs/device-protocols.md §1.5)."""

    raw: int

    enhanced = property(lambda self: _bit(self.raw, 0))
    train = property(lambda self: _bit(self.raw, 1))
    wait = property(lambda self: _bit(self.raw, 2))
    single_pulse = property(lambda self: _bit(self.raw, 3))
    hv_psu = property(lambda self: _bit(self.raw, 4))
    coil_ready = property(lambda self: _bit(self.raw, 5))
    theta_psu = property(lambda self: _bit(self.raw, 6))
    modified_coil = property(lambda self: _bit(self.raw, 7))


@dataclass(frozen=True)
class ErrorReply:
    """``?`` (unknown command), ``<cmd>?`` (bad data) or ``<cmd>S`` (wrong state) (docs/device-protocols.md §1.3)."""

    command: str | None
    kind: Literal["unknown", "data", "state"]


@dataclass(frozen=True)
class Ack:
    """Echo plus instrument status (3-byte replies)."""

    command: str
    status: InstrumentStatus


@dataclass(frozen=True)
class RapidAck:
    """Echo plus instrument and Rapid status (``B D [ ^ _``, and ``n`` before V10)."""

    command: str
    status: InstrumentStatus
    rapid: RapidStatus


@dataclass(frozen=True)
class Parameters:
    """``J`` reply: 200² (power B and interval are 0) or BiStim² (docs/device-protocols.md §1.7)."""

    status: InstrumentStatus
    power_a: int
    power_b: int
    interval: int


@dataclass(frozen=True)
class RapidParameters:
    """``\\`` reply (TDb087 §6.12; docs/device-protocols.md §1.7)."""

    status: InstrumentStatus
    rapid: RapidStatus
    power: int
    frequency_hz: float
    pulses: int
    duration_s: float
    wait_s: float


@dataclass(frozen=True)
class CoilTemperatures:
    """``F`` reply: two windings, °C (docs/device-protocols.md §1.4)."""

    status: InstrumentStatus
    coil1_c: float
    coil2_c: float


@dataclass(frozen=True)
class SystemStatus:
    """``x`` reply (and ``n`` from V10): extended status MSB·256+LSB (TDb087 §10)."""

    command: str
    status: InstrumentStatus
    rapid: RapidStatus
    extended: int


@dataclass(frozen=True)
class ErrorCode:
    """``I`` reply: source ``U`` (UI), ``C`` (coil) or ``E`` (system) and a two-digit code."""

    status: InstrumentStatus
    source: str
    code: int


@dataclass(frozen=True)
class Version:
    """``N`` reply: the version text after ``V`` and its numbers (``9.0.0`` → (9, 0, 0))."""

    text: str
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class SystemMode:
    """BiStim ``X`` reply: mode character (docs/device-protocols.md §1.4)."""

    status: InstrumentStatus
    mode: str


@dataclass(frozen=True)
class SystemType:
    """``K`` reply: four ASCII characters, no status byte (unverified, docs/device-protocols.md §1.4)."""

    code: str


@dataclass(frozen=True)
class ChargeDelay:
    """``o`` reply: charge delay in ms."""

    status: InstrumentStatus
    milliseconds: int


Reply = (
    ErrorReply
    | Ack
    | RapidAck
    | Parameters
    | RapidParameters
    | CoilTemperatures
    | SystemStatus
    | ErrorCode
    | Version
    | SystemMode
    | SystemType
    | ChargeDelay
)
