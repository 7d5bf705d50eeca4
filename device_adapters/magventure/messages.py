"""Typed MagVenture MagPro messages (docs/device-protocols.md §2.4); byte indices are within the whole frame."""

from __future__ import annotations

from dataclasses import dataclass

MODELS = {0: "R30", 1: "X100", 2: "R30+Option", 3: "X100+Option", 4: "R30+Option+Mono", 5: "MST"}
MODES = {0: "standard", 1: "power", 2: "twin", 3: "dual"}
WAVEFORMS = {0: "monophasic", 1: "biphasic", 2: "half_sine", 3: "biphasic_burst"}
PAGES = {
    1: "main",
    2: "timing",
    3: "trig",
    4: "config",
    6: "download",
    7: "protocol",
    8: "mep",
    13: "service",
    15: "treatment",
    16: "treat_select",
    17: "service2",
    19: "calculator",
}
TIMING_PAGE = 2


@dataclass(frozen=True)
class ModeStatus:
    """Mode/status byte: bits 1–0 mode, 3–2 waveform, 4 enabled, 7–5 model (docs/device-protocols.md §2.4)."""

    raw: int

    @property
    def mode(self) -> str:
        """Stimulation mode name."""
        return MODES.get(self.raw & 0b11, "unknown")

    @property
    def waveform(self) -> str:
        """Waveform name."""
        return WAVEFORMS.get(self.raw >> 2 & 0b11, "unknown")

    @property
    def enabled(self) -> bool:
        """Enabled (armed)."""
        return bool(self.raw >> 4 & 1)

    @property
    def model(self) -> str:
        """Model name."""
        return MODELS.get(self.raw >> 5, "unknown")


@dataclass(frozen=True)
class Status:
    """Message 0 (and the first part of message 5)."""

    mode_status: ModeStatus
    serial_number: int
    coil_temperature_c: int
    coil_type: int
    amplitude_a: int
    amplitude_b: int


@dataclass(frozen=True)
class Status2:
    """Message 5: status plus original amplitudes, factors, page and train running."""

    status: Status
    original_a: int
    original_b: int
    factor_a: int
    factor_b: int
    page: int
    running: bool


@dataclass(frozen=True)
class Amplitude:
    """Message 1: amplitudes after a change or enable/disable."""

    amplitude_a: int
    amplitude_b: int
    mode_status: ModeStatus


@dataclass(frozen=True)
class DiDt:
    """Message 2: realised di/dt (A/µs) after each pulse."""

    di_dt_a: int
    di_dt_b: int
    mode_status: ModeStatus


@dataclass(frozen=True)
class CoilInfo:
    """Message 3: coil temperature (°C) and coil type number."""

    coil_temperature_c: int
    coil_type: int
    mode_status: ModeStatus


@dataclass(frozen=True)
class MepMinMax:
    """Message 4: MEP maximum/minimum amplitude (µV) and time of maximum (µs)."""

    max_uv: int
    min_uv: int
    max_time_us: int


@dataclass(frozen=True)
class PageState:
    """Message 8: page and train running, on page change and train start/stop."""

    page: int
    running: bool
    mode_status: ModeStatus


@dataclass(frozen=True)
class WaveformBlock:
    """Message 9: model, mode, direction, waveform, burst index, IPI table index, B/A ratio index."""

    model: int
    mode: int
    current_direction: int
    waveform: int
    burst_index: int
    ipi_index: int
    ratio_index: int

    @property
    def burst_pulses(self) -> int:
        """Pulses per burst (burst index = 5 − pulses)."""
        return 5 - self.burst_index


@dataclass(frozen=True)
class Delays:
    """Message 10: trigger-in, trigger-out (signed) in 0.1 ms, charge delay in ms."""

    trigger_in_tenths_ms: int
    trigger_out_tenths_ms: int
    charge_delay_ms: int


@dataclass(frozen=True)
class Timing:
    """Message 11: the Timing page (rate in 0.1 pps, ITI in 0.1 s)."""

    timing_control: int
    rate_tenths: int
    pulses_per_train: int
    trains: int
    iti_tenths: int
    warning_sound: bool
    ramp_up_percent: int
    ramp_up_trains: int


@dataclass(frozen=True)
class PageCount:
    """Message 12: stimulus count and page."""

    stimulus_count: int
    page: int


@dataclass(frozen=True)
class Unknown:
    """A message ID we do not interpret (e.g. 240, 241 seen by pytms)."""

    message_id: int
    payload: bytes


Message = (
    Status
    | Status2
    | Amplitude
    | DiDt
    | CoilInfo
    | MepMinMax
    | PageState
    | WaveformBlock
    | Delays
    | Timing
    | PageCount
    | Unknown
)
