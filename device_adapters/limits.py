"""Limit checks from the device profiles: refuse, never clamp; every message names the limit."""

from __future__ import annotations

from config.device_profiles import DeviceProfile
from device_adapters.errors import LimitError
from device_adapters.values import TrainProtocol


def _fmt(value: float) -> str:
    return f"{value:g}"


def check_intensity(profile: DeviceProfile, percent: int, channel: str = "A") -> None:
    """Intensity must be a whole percentage within the profile's maximum output."""
    if channel not in profile.channels:
        raise LimitError(f"{profile.display_name} has no channel {channel!r} (channels: {profile.channels})")
    if isinstance(percent, bool) or not isinstance(percent, int):
        raise LimitError(f"intensity must be a whole percentage, got {percent!r}")
    if percent > profile.max_output_percent:
        raise LimitError(f"intensity {percent}% exceeds the maximum output of {profile.max_output_percent}%")
    if percent < 0:
        raise LimitError(f"intensity {percent}% is below the minimum output of 0%")


def _check_common(protocol: TrainProtocol) -> None:
    if protocol.frequency_hz <= 0:
        raise LimitError(f"frequency {_fmt(protocol.frequency_hz)} Hz must be above 0 Hz")
    if protocol.pulses_per_train < 1 or protocol.trains < 1:
        raise LimitError("a protocol needs at least 1 pulse per train and 1 train")
    if protocol.inter_train_interval_s < 0:
        raise LimitError("inter-train interval cannot be negative")
    if protocol.pulses_per_train % protocol.burst_pulses:
        raise LimitError(
            f"{protocol.pulses_per_train} pulses per train is not a whole number of "
            f"{protocol.burst_pulses}-pulse bursts"
        )


def check_rapid_train(
    profile: DeviceProfile, protocol: TrainProtocol, firmware_major: int, supply: str, system: str
) -> None:
    """Rapid² limits (docs/device-protocols.md §1.9): frequency by power, pulse count, duration, duty, wait."""
    rapid = profile.rapid
    assert rapid is not None
    _check_common(protocol)
    if protocol.burst_pulses != 1:
        raise LimitError(f"{profile.display_name} cannot be programmed for burst trains over serial")
    power, freq, pulses = protocol.intensity_percent, protocol.frequency_hz, protocol.pulses_per_train
    limit = rapid.max_frequency(power, supply, system)
    if freq > limit:
        raise LimitError(
            f"frequency {_fmt(freq)} Hz exceeds the maximum of {_fmt(limit)} Hz at {power}% power "
            f"({supply} V {system})"
        )
    key = rapid.firmware_key(firmware_major)
    if pulses > rapid.max_pulses[key]:
        raise LimitError(f"{pulses} pulses per train exceeds the maximum of {rapid.max_pulses[key]}")
    duration = pulses / freq
    if abs(round(duration * 10) - duration * 10) > 1e-6:
        raise LimitError(
            f"train duration {pulses}/{_fmt(freq)} Hz = {duration:.3f} s is not a multiple of 0.1 s"
        )
    if duration > rapid.max_duration_s[key]:
        raise LimitError(
            f"train duration {_fmt(duration)} s exceeds the maximum of {_fmt(rapid.max_duration_s[key])} s"
        )
    on_max = rapid.max_on_time_s(power, freq)
    if min(duration, 60.0) > on_max:
        raise LimitError(
            f"train of {_fmt(duration)} s exceeds the maximum on-time of {on_max:.2f} s at {power}% "
            f"and {_fmt(freq)} Hz ({rapid.duty_limit_j_per_min:,.0f} J/min duty limit)"
        )
    wait = rapid.min_wait_between_trains_s(power, freq, pulses)
    if protocol.trains > 1 and protocol.inter_train_interval_s < wait:
        raise LimitError(
            f"inter-train interval {_fmt(protocol.inter_train_interval_s)} s is below the minimum "
            f"wait of {wait:.2f} s for {pulses} pulses at {power}% and {_fmt(freq)} Hz"
        )


def _burst_ipi_ok(ipi_ms: float) -> bool:
    tenths = round(ipi_ms * 10)
    if abs(tenths - ipi_ms * 10) > 1e-6:
        return False
    if 200 <= tenths <= 1000:
        return tenths % 10 == 0
    if 100 <= tenths < 200:
        return tenths % 5 == 0
    return 5 <= tenths < 100


def check_magventure_train(profile: DeviceProfile, protocol: TrainProtocol) -> None:
    """MagPro limits (docs/device-protocols.md §2.3): rate per model, pulses, trains, ITI, burst capability."""
    caps = profile.magventure
    assert caps is not None
    _check_common(protocol)
    rate, burst = protocol.frequency_hz, protocol.burst_pulses
    max_rate = caps.max_rate_pps if burst == 1 else caps.max_burst_rate_pps
    if burst > 1 and "biphasic_burst" not in caps.waveforms:
        raise LimitError(f"{profile.display_name} cannot deliver burst stimulation (no burst waveform)")
    if burst > 1 and not 2 <= burst <= 5:
        raise LimitError(f"{burst} pulses per burst is outside the 2–5 the MagPro allows")
    if burst > 1 and (protocol.burst_ipi_ms is None or not _burst_ipi_ok(protocol.burst_ipi_ms)):
        raise LimitError(
            f"burst inter-pulse interval {protocol.burst_ipi_ms} ms is not a MagPro setting (0.5–100 ms)"
        )
    if rate > max_rate:
        raise LimitError(
            f"rate {_fmt(rate)} pps exceeds the maximum of {_fmt(max_rate)} pps on {profile.display_name}"
        )
    if rate < caps.min_rate_pps or abs(round(rate * 10) - rate * 10) > 1e-6:
        raise LimitError(f"rate {_fmt(rate)} pps must be at least {_fmt(caps.min_rate_pps)} in 0.1 steps")
    stimuli = protocol.pulses_per_train // burst
    if stimuli > caps.max_pulses_per_train or (stimuli > 100 and stimuli % 100):
        raise LimitError(
            f"{stimuli} stimuli per train is not a MagPro setting (1–100, then steps of 100 up to "
            f"{caps.max_pulses_per_train})"
        )
    if protocol.trains > caps.max_trains:
        raise LimitError(f"{protocol.trains} trains exceeds the maximum of {caps.max_trains}")
    low, high = caps.iti_range_s
    iti = protocol.inter_train_interval_s
    if protocol.trains > 1 and not low <= iti <= high:
        raise LimitError(f"inter-train interval {_fmt(iti)} s is outside {_fmt(low)}–{_fmt(high)} s")
