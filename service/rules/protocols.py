"""Protocol catalog, derived timing, custom-protocol validation and session spacing.

The catalog is data (``config/clinical/protocols.json``, docs/clinical-rules.md#cleared-protocols): 10 Hz
3000 pulses with 26 s and 11 s ITI, iTBS 600, deep TMS H1 18 Hz 1980, 1 Hz right DLPFC, accelerated
iTBS 1800 × 10/day ≥ 50 min apart. Timing formulas (#protocol-timing [C]): duration = trains × train_s +
(trains − 1) × ITI; pulses = trains × pulses_per_train; iTBS pulses_per_train = bursts × 3.

Validation (#outside-the-table, #safety-table): parameters identical to a whitelisted cleared protocol
pass as that protocol. Anything else is checked against the IFCN single-train table and the ITI rule; the table
does not cover H-coils or theta burst, so those are "outside the table". Any violation means the
protocol needs a psychiatrist's signed override (``ValidationResult.needs_signed_override``).

Public API::

    catalog() -> tuple[Protocol, ...]
    get(protocol_id: str) -> Protocol
    timing(protocol_or_params) -> Timing
    check_stored_timing(protocol: Protocol) -> list[Violation]
    validate(params: ProtocolParams) -> ValidationResult            # .ok, .violations, .allowed(override)
    session_spacing(protocol: Protocol, previous_starts: Sequence[datetime], now: datetime) -> list[Violation]
    min_start_gap(protocol: Protocol) -> timedelta     # pause + session length when measured from the end
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from config import clinical_data
from config.clinical_data import Protocol
from service.rules.errors import RuleInputError
from service.rules.safety_table import Violation, check_iti, check_schedule, check_train

__all__ = [
    "ProtocolParams",
    "SignedOverride",
    "Timing",
    "ValidationResult",
    "Violation",
    "catalog",
    "check_stored_timing",
    "get",
    "min_start_gap",
    "session_spacing",
    "timing",
    "validate",
]

_EPS = 1e-6


@dataclass(frozen=True)
class ProtocolParams:
    """Requested stimulation parameters (theta burst: give the three burst fields, no frequency)."""

    intensity_pct_mt: float
    train_duration_s: float
    iti_s: float
    trains: int
    frequency_hz: float | None = None
    pattern: Literal["simple", "theta_burst"] = "simple"
    pulses_per_burst: int | None = None
    burst_frequency_hz: float | None = None
    burst_rate_hz: float | None = None
    coil: str = "figure8"
    intensity_basis: Literal["rMT", "rMT_depth_adjusted"] = "rMT"


@dataclass(frozen=True)
class Timing:
    """Derived pulses and duration."""

    pulses_per_train: int
    total_pulses: int
    duration_s: float


@dataclass(frozen=True)
class SignedOverride:
    """A psychiatrist's signed acceptance of named violations."""

    signed_by: str
    signed_at: datetime
    reason: str


@dataclass(frozen=True)
class ValidationResult:
    """``ok`` when nothing is violated; otherwise a signed override is needed."""

    ok: bool
    violations: tuple[Violation, ...]
    whitelisted_protocol_id: str | None
    timing: Timing

    @property
    def needs_signed_override(self) -> bool:
        """True when a psychiatrist's signed override is needed to use these parameters."""
        return not self.ok

    def allowed(self, override: SignedOverride | None = None) -> bool:
        """OK as is, or covered by a signed override with a stated reason."""
        return self.ok or (override is not None and bool(override.signed_by.strip() and override.reason.strip()))


def catalog() -> tuple[Protocol, ...]:
    """Every protocol in the catalog."""
    return clinical_data.protocols().protocols


def get(protocol_id: str) -> Protocol:
    """One protocol by id; RuleInputError naming ``protocol_id`` if unknown."""
    for p in catalog():
        if p.id == protocol_id:
            return p
    raise RuleInputError("protocol_id", f"unknown protocol {protocol_id!r}")


def _pulses_per_train(p: Protocol | ProtocolParams) -> int:
    if p.pattern == "theta_burst":
        if isinstance(p, Protocol):
            assert p.burst is not None  # guaranteed by the model validator
            rate, per_burst = p.burst.burst_rate_hz, p.burst.pulses_per_burst
        else:
            rate, per_burst = p.burst_rate_hz or 0.0, p.pulses_per_burst or 0
        return round(rate * p.train_duration_s) * per_burst
    return round((p.frequency_hz or 0.0) * p.train_duration_s)


def timing(p: Protocol | ProtocolParams) -> Timing:
    """Pulses per train, pulses per session and session duration (docs/clinical-rules.md#protocol-timing)."""
    per_train = _pulses_per_train(p)
    duration = p.trains * p.train_duration_s + (p.trains - 1) * p.iti_s
    return Timing(per_train, per_train * p.trains, round(duration, 3))


def check_stored_timing(protocol: Protocol) -> list[Violation]:
    """Compare a catalog entry's stored pulses and duration with the derived ones."""
    derived = timing(protocol)
    pairs = (
        ("pulses_per_train", protocol.pulses_per_train, derived.pulses_per_train),
        ("total_pulses", protocol.total_pulses, derived.total_pulses),
        ("session_duration_s", protocol.session_duration_s, derived.duration_s),
    )
    return [
        Violation(f"stored_{name}", computed, stored, f"{protocol.id}: stored {name} {stored} ≠ computed {computed}")
        for name, stored, computed in pairs
        if abs(stored - computed) > _EPS
    ]


def _validate_params(p: ProtocolParams) -> None:
    checks = (
        ("intensity_pct_mt", p.intensity_pct_mt > 0),
        ("train_duration_s", p.train_duration_s > 0),
        ("iti_s", p.iti_s >= 0),
        ("trains", isinstance(p.trains, int) and p.trains >= 1),
    )
    for name, ok in checks:
        if not ok:
            raise RuleInputError(name, f"invalid value {getattr(p, name)!r}")
    if p.pattern == "simple" and not (p.frequency_hz and p.frequency_hz > 0):
        raise RuleInputError("frequency_hz", "a simple protocol needs a frequency above 0 Hz")
    if p.pattern == "theta_burst":
        for name in ("pulses_per_burst", "burst_frequency_hz", "burst_rate_hz"):
            value = getattr(p, name)
            if value is None or value <= 0:
                raise RuleInputError(name, "a theta-burst protocol needs this above 0")


def _same(p: ProtocolParams, w: Protocol) -> bool:
    burst_same = p.pattern == "simple" or (
        w.burst is not None
        and p.pulses_per_burst == w.burst.pulses_per_burst
        and abs((p.burst_frequency_hz or 0) - w.burst.burst_frequency_hz) < _EPS
        and abs((p.burst_rate_hz or 0) - w.burst.burst_rate_hz) < _EPS
    )
    numbers = (
        (p.frequency_hz or 0.0, w.frequency_hz or 0.0),
        (p.intensity_pct_mt, w.intensity_pct),
        (p.train_duration_s, w.train_duration_s),
        (p.iti_s, w.iti_s),
    )
    return (
        p.pattern == w.pattern
        and burst_same
        and p.trains == w.trains
        and p.coil == w.coil
        and p.intensity_basis == w.intensity_basis
        and all(abs(a - b) < _EPS for a, b in numbers)
    )


def _table_violations(p: ProtocolParams) -> list[Violation]:
    if p.intensity_basis != "rMT":
        # The table is written for % of resting MT; % of a depth-adjusted MT becomes that only with the
        # patient's MT and depth-adjusted MT on the device (service/rules/dose_check.py converts it).
        return [
            Violation(
                "ifcn_intensity_basis",
                "% of resting MT",
                f"{p.intensity_pct_mt:g}% of the depth-adjusted MT",
                "The IFCN safety table is written for % of resting MT; an intensity in % of the depth-adjusted "
                "MT can be placed in it only with the patient's resting and depth-adjusted MT for the device. "
                "A psychiatrist's signed override is needed.",
            )
        ]
    covered = clinical_data.safety_table().covered_coils
    if p.pattern == "theta_burst" or p.coil not in covered:
        what = "theta-burst patterns" if p.pattern == "theta_burst" else f"the {p.coil} coil"
        return [
            Violation(
                "ifcn_table_coverage",
                f"simple trains, coils: {', '.join(covered)}",
                p.coil if p.pattern == "simple" else p.pattern,
                f"The IFCN safety table does not cover {what}; only cleared protocols are whitelisted. "
                "A psychiatrist's signed override is needed.",
            )
        ]
    freq = p.frequency_hz or 0.0
    return (
        check_train(freq, p.intensity_pct_mt, p.train_duration_s)
        + check_iti(freq, p.intensity_pct_mt, p.iti_s, p.trains)
        + check_schedule(freq, p.intensity_pct_mt, p.train_duration_s, p.iti_s, p.trains)
    )


def validate(params: ProtocolParams) -> ValidationResult:
    """Whitelisted cleared protocol, or check against the IFCN table and the ITI rule."""
    _validate_params(params)
    derived = timing(params)
    match = next((w for w in catalog() if w.whitelisted and _same(params, w)), None)
    if match is not None:
        return ValidationResult(True, (), match.id, derived)
    violations = tuple(_table_violations(params))
    return ValidationResult(not violations, violations, None, derived)


def min_start_gap(protocol: Protocol) -> timedelta:
    """The least time from one session's start to the next one's: the protocol's pause, plus the session itself
    when the pause is measured from the end (``interval_measured_from``: the conservative reading, docs/dose-safety.md).
    """
    pause = timedelta(minutes=protocol.min_interval_minutes or 0)
    if protocol.min_interval_minutes and clinical_data.protocols().interval_measured_from == "end":
        pause += timedelta(seconds=protocol.session_duration_s)
    return pause


def session_spacing(protocol: Protocol, previous_starts: Sequence[datetime], now: datetime) -> list[Violation]:
    """Daily session limit and minimum interval between sessions for ``protocol`` (times in one zone)."""
    for i, start in enumerate(previous_starts):
        if start > now:
            raise RuleInputError(f"previous_starts[{i}]", f"{start.isoformat()} is after now ({now.isoformat()})")
    found = []
    today = [s for s in previous_starts if s.date() == now.date()]
    if len(today) >= protocol.sessions_per_day:
        found.append(
            Violation(
                "daily_limit",
                protocol.sessions_per_day,
                len(today),
                f"{len(today)} session(s) already today; {protocol.name} allows {protocol.sessions_per_day} per day.",
            )
        )
    if protocol.min_interval_minutes and previous_starts:
        from_end = clinical_data.protocols().interval_measured_from == "end"
        last = max(previous_starts)
        if from_end:
            last += timedelta(seconds=protocol.session_duration_s)
        waited = (now - last).total_seconds() / 60
        if waited < protocol.min_interval_minutes:
            since = "the end of the last session" if from_end else "the last session started"
            found.append(
                Violation(
                    "min_interval",
                    protocol.min_interval_minutes,
                    round(waited, 1),
                    f"Only {max(waited, 0):.0f} min since {since}; {protocol.name} needs "
                    f"{protocol.min_interval_minutes} min from the end of one session to the start of the next."
                    if from_end
                    else f"Only {waited:.0f} min since {since}; {protocol.name} needs "
                    f"{protocol.min_interval_minutes} min between sessions.",
                )
            )
    return found
