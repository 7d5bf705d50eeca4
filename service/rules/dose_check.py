"""The one check of a dose: protocol, intensity on its basis, the train schedule as a whole, the device's output.

Every step that can change or send a dose asks this function: ordering and amending a course, a signed
override, preflight, start and resume, and the program queued for the chair (docs/dose-safety.md).

- The parameter set is the catalog protocol with the prescribed intensity (and, for a resumed session,
  the trains left). A whitelisted cleared protocol at its cleared intensity passes as that protocol.
- Anything else is placed in the IFCN single-train table (Rossi 2009 Table 4), which is written for % of
  resting MT. An intensity in % of the depth-adjusted MT is converted with the patient's MT for the device
  (``intensity × depth-adjusted MT / resting MT``); where that cannot be computed (no MT, no depth
  adjustment) the intensity cannot be placed in the table, which is itself a violation.
- The schedule is judged as a whole (``safety_table.check_schedule``): trains with too short a pause
  between them are one continuous train.
- With an MT, the output (% of machine output) must lie within the device's maximum: refused, never
  clamped, and no override can lift a device's own limit.

Violations of the table can be accepted by a psychiatrist's signed override of exactly this parameter
set (the caller looks it up by :func:`params_dict`); the device limit cannot.

Public API::

    prescribed(protocol, intensity_pct, trains=None) -> ProtocolParams
    params_dict(params) -> dict                     # the shape a signed override stores and hashes
    check(protocol, intensity_pct, *, trains=None, mt_pct_mso=None, depth_adjusted_mt_pct_mso=None,
          device_max_pct=None, resolution=1) -> DoseCheck
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from config.clinical_data import Protocol
from service.rules import dose as dose_rules
from service.rules import protocols
from service.rules.errors import LimitExceededError
from service.rules.safety_table import Violation


@dataclass(frozen=True)
class DoseCheck:
    """The verdict: table violations (an override may accept them) and the output, or why there is none."""

    params: protocols.ProtocolParams
    intensity_pct_rmt: float | None
    whitelisted_protocol_id: str | None
    violations: tuple[Violation, ...]
    dose: dose_rules.Dose | None
    device_refusal: LimitExceededError | None

    @property
    def within_table(self) -> bool:
        """True when the parameters lie within the table (or are a whitelisted cleared protocol)."""
        return not self.violations


def prescribed(protocol: Protocol, intensity_pct: float, trains: int | None = None) -> protocols.ProtocolParams:
    """The parameter set a course prescribes: the catalog protocol at the course's intensity."""
    burst = protocol.burst
    return protocols.ProtocolParams(
        intensity_pct_mt=float(intensity_pct),
        train_duration_s=protocol.train_duration_s,
        iti_s=protocol.iti_s,
        trains=trains if trains is not None else protocol.trains,
        frequency_hz=None if burst else protocol.frequency_hz,
        pattern=protocol.pattern,
        pulses_per_burst=burst.pulses_per_burst if burst else None,
        burst_frequency_hz=burst.burst_frequency_hz if burst else None,
        burst_rate_hz=burst.burst_rate_hz if burst else None,
        coil=protocol.coil,
        intensity_basis=protocol.intensity_basis,
    )


def params_dict(params: protocols.ProtocolParams) -> dict[str, Any]:
    """The parameter set as a signed override stores it (every field, the same names as the API)."""
    return asdict(params)


def _in_rmt(params: protocols.ProtocolParams, mt: float | None, adjusted: float | None) -> float | None:
    if params.intensity_basis == "rMT":
        return params.intensity_pct_mt
    if mt is None or adjusted is None or mt <= 0:
        return None
    return round(params.intensity_pct_mt * adjusted / mt, 1)


def check(
    protocol: Protocol,
    intensity_pct: float,
    *,
    trains: int | None = None,
    mt_pct_mso: float | None = None,
    depth_adjusted_mt_pct_mso: float | None = None,
    device_max_pct: float | None = None,
    resolution: float = 1,
) -> DoseCheck:
    """Check one dose against the table, its schedule and (given an MT) the device's maximum output."""
    params = prescribed(protocol, intensity_pct, trains)
    result = protocols.validate(params)
    rmt = _in_rmt(params, mt_pct_mso, depth_adjusted_mt_pct_mso)
    if not result.ok and params.intensity_basis != "rMT" and rmt is not None:
        # Placed in the table at its resting-MT equivalent; the override still names the prescribed set.
        result = protocols.validate(replace(params, intensity_pct_mt=rmt, intensity_basis="rMT"))
    dose, refusal = None, None
    if mt_pct_mso is not None:
        try:
            dose = dose_rules.output_percent(
                intensity_pct, mt_pct_mso, device_max_pct=device_max_pct if device_max_pct is not None else 100,
                basis=protocol.intensity_basis, depth_adjusted_mt_pct_mso=depth_adjusted_mt_pct_mso,
                resolution=resolution)
        except LimitExceededError as exc:
            refusal = exc
    return DoseCheck(params, rmt, result.whitelisted_protocol_id, result.violations, dose, refusal)


def describe(violations: tuple[Violation, ...]) -> str:
    """The violations as one sentence a psychiatrist reads (each names its cell and limit)."""
    return " ".join(v.message for v in violations)
