"""Typed device errors; each carries the last frames exchanged so a log shows what the wire said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FrameRecord:
    """One frame on the wire: ``direction`` is ``"tx"`` (host to device) or ``"rx"``."""

    direction: str
    data: bytes
    at: float
    note: str = ""

    def __str__(self) -> str:
        return f"{self.direction} {self.data.hex(' ')}" + (f" ({self.note})" if self.note else "")


class DeviceError(Exception):
    """Base of every stimulator error raised by ``device_adapters``."""

    def __init__(self, message: str, frames: Sequence[FrameRecord] = ()) -> None:
        super().__init__(message)
        self.frames: tuple[FrameRecord, ...] = tuple(frames)
        self.reported = False

    def with_frames(self, frames: Sequence[FrameRecord]) -> DeviceError:
        """Attach the recent transcript (kept if already set)."""
        if not self.frames:
            self.frames = tuple(frames)
        return self


class LimitError(DeviceError, ValueError):
    """A requested value is outside the device profile's limits: refused, never clamped."""


class DeviceTimeout(DeviceError):
    """The device did not answer, or did not reach a state, within the allowed time."""


class RejectedError(DeviceError):
    """The device answered with an error reply."""


class CommandRejected(RejectedError):
    """Unknown command (Magstim single ``?`` reply, docs/device-protocols.md §1.3)."""


class DataRejected(RejectedError):
    """Known command, bad data (Magstim ``<cmd>?`` reply, docs/device-protocols.md §1.3)."""


class StateRejected(RejectedError):
    """Valid command that conflicts with the device state (Magstim ``<cmd>S`` reply, docs/device-protocols.md §1.3)."""


class RemoteControlLost(StateRejected):
    """The device no longer reports remote control (keep-alive missed, or taken back at the unit)."""


class CodecError(DeviceError):
    """Bytes that do not form a valid frame of the family's protocol."""


class ChecksumError(CodecError):
    """A frame whose checksum / CRC does not match its content."""


class CoilFault(DeviceError):
    """Coil absent, needs replacing, or above its temperature cut-off."""


class InterlockError(DeviceError):
    """The device's safety interlock prevents or stopped stimulation (coil not ready / disabled)."""


class DeviceFault(DeviceError):
    """The device reports an error of its own (error bit, with ``fatal`` set for fatal errors)."""

    def __init__(self, message: str, frames: Sequence[FrameRecord] = (), fatal: bool = False) -> None:
        super().__init__(message, frames)
        self.fatal = fatal


class Disconnected(DeviceError):
    """The port is gone (cable pulled, device powered off, port closed)."""


class ParameterMismatch(DeviceError):
    """Parameters read back from the device differ from what was programmed."""


class StoppedAtDevice(StateRejected):
    """The device was stopped or disarmed at its own panel (not a fault: the run is interrupted)."""


class DisarmUnconfirmed(DeviceError):
    """A disarm was never confirmed: the unit may still be armed. Arm and fire are refused until a status
    read shows it disarmed; the driver sends nothing meanwhile, so a unit with a watchdog disarms itself."""
