"""Treatment output: % of machine output = % MT × MT, depth-adjusted when the protocol says so.

docs/clinical-rules.md#treatment-dose and #depth-adjustment: the intensity is the protocol
percentage × MT, and SAINT-style protocols use 90% of the depth-adjusted MT (Stokes 2005 ~3%/mm;
``motor_threshold.depth_adjusted_mt``). The design rule "refuse, never clamp" applies: a dose above the device
maximum raises ``LimitExceededError`` with the limit in the message; it is never lowered into range. Rounding to the
device resolution is half-up, and a dose whose exact value is above the maximum is refused even if
it would round down to it.

Public API::

    output_percent(intensity_pct_mt: float, mt_pct_mso: float, *, device_max_pct: float = 100,
                   basis: str = "rMT", depth_adjusted_mt_pct_mso: float | None = None,
                   resolution: float = 1) -> Dose
    for_protocol(protocol: Protocol, mt_pct_mso: float, *, device_max_pct: float = 100,
                 depth_adjusted_mt_pct_mso: float | None = None, resolution: float = 1) -> Dose
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from config.clinical_data import Protocol
from service.rules.errors import LimitExceededError, RuleInputError


@dataclass(frozen=True)
class Dose:
    """The output to program, the exact product, and which MT it came from."""

    output_pct_mso: float
    exact_pct_mso: float
    mt_used_pct_mso: float
    basis: str
    intensity_pct_mt: float
    reasons: tuple[str, ...]


def _round(value: float, resolution: float) -> float:
    step = Decimal(str(resolution))
    return float((Decimal(str(value)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


def _mt_for(basis: str, mt_pct_mso: float, depth_adjusted: float | None) -> float:
    if basis == "rMT":
        return mt_pct_mso
    if basis == "rMT_depth_adjusted":
        if depth_adjusted is None:
            raise RuleInputError(
                "depth_adjusted_mt_pct_mso", "this protocol doses from the depth-adjusted MT; none given"
            )
        if not 0 < depth_adjusted <= 100:
            raise RuleInputError("depth_adjusted_mt_pct_mso", f"must be above 0 and at most 100, got {depth_adjusted}")
        return depth_adjusted
    raise RuleInputError("basis", f"unknown intensity basis {basis!r}")


def output_percent(
    intensity_pct_mt: float,
    mt_pct_mso: float,
    *,
    device_max_pct: float = 100,
    basis: str = "rMT",
    depth_adjusted_mt_pct_mso: float | None = None,
    resolution: float = 1,
) -> Dose:
    """Machine output for ``intensity_pct_mt`` of the MT; refuses (never clamps) above ``device_max_pct``."""
    if not 0 < intensity_pct_mt <= 300:
        raise RuleInputError("intensity_pct_mt", f"must be above 0 and at most 300, got {intensity_pct_mt}")
    if not 0 < mt_pct_mso <= 100:
        raise RuleInputError("mt_pct_mso", f"must be above 0 and at most 100, got {mt_pct_mso}")
    if resolution <= 0:
        raise RuleInputError("resolution", "must be above 0")
    mt = _mt_for(basis, mt_pct_mso, depth_adjusted_mt_pct_mso)
    exact = intensity_pct_mt * mt / 100
    output = _round(exact, resolution)
    if exact > device_max_pct + 1e-9 or output > device_max_pct + 1e-9:
        raise LimitExceededError(
            "intensity_pct_mt",
            f"{intensity_pct_mt:g}% of MT {mt:g}% = {exact:.1f}% of machine output, above the device maximum "
            f"of {device_max_pct:g}%; refused (not lowered). Re-check the MT or the prescription.",
            limit=device_max_pct,
            value=round(exact, 3),
        )
    reasons = (f"{intensity_pct_mt:g}% × {basis} {mt:g}% MSO = {exact:.2f}% → {output:g}% MSO",)
    return Dose(output, round(exact, 3), mt, basis, intensity_pct_mt, reasons)


def for_protocol(
    protocol: Protocol,
    mt_pct_mso: float,
    *,
    device_max_pct: float = 100,
    depth_adjusted_mt_pct_mso: float | None = None,
    resolution: float = 1,
) -> Dose:
    """The dose for a catalog protocol, using its intensity and intensity basis."""
    return output_percent(
        protocol.intensity_pct,
        mt_pct_mso,
        device_max_pct=device_max_pct,
        basis=protocol.intensity_basis,
        depth_adjusted_mt_pct_mso=depth_adjusted_mt_pct_mso,
        resolution=resolution,
    )
