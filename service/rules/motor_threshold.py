"""Motor threshold: freshness policy, depth adjustment, Beam F3 scalp position.

Numbers (``config/clinical/motor_threshold.json``; docs/clinical-rules.md#motor-threshold):

- Re-determine at least weekly or every 5 sessions [C as trial practice: Zarkowski/George 2009;
  Cotovio], and after a change of CNS-active medication, a treatment gap, sleep deprivation or
  substance use, or an unusual response [U as formal guidance]. Re-determination bills CPT 90869 [C].
- Depth adjustment: about 3% MSO more per extra mm of scalp-to-cortex distance (Stokes 2005) [C];
  adjusted MT = MT_M1 + 3 × (D_target − D_M1).
- Beam F3 (Beam 2009), webpage-calculator formula as reproduced by Zhen Li 2023 [S]; TT = NI = 35 cm,
  CF = 57 cm gives X ≈ 6.6 cm, Y ≈ 9.2 cm. Validate against the official calculator before clinical use.

Public API::

    freshness(policy: FreshnessPolicy | None, facts: MTFacts, today: date) -> Freshness
    depth_adjusted_mt(mt_pct_mso: float, d_m1_mm: float, d_target_mm: float, *, pct_per_mm=None) -> float
    beam_f3(tragus_tragus_cm: float, nasion_inion_cm: float, circumference_cm: float) -> BeamF3

Same-day ordering: a medication change or event dated the day of the determination is taken to
precede it (dates carry no time), so a same-day re-determination clears it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from config import clinical_data
from config.clinical_data import FreshnessPolicy
from service.rules.errors import RuleInputError, require_not_future


@dataclass(frozen=True)
class MedicationChange:
    """A start, stop or dose change of a drug (class looked up in medications.json when not given)."""

    drug: str
    changed_on: date
    drug_class: str | None = None


@dataclass(frozen=True)
class ReportedEvent:
    """A reported trigger: ``sleep_deprivation``, ``substance_use`` or ``unusual_response``."""

    kind: str
    on: date


@dataclass(frozen=True)
class MTFacts:
    """The latest MT determination and what happened since (``session_dates``: sessions run on it)."""

    determined_on: date | None
    session_dates: tuple[date, ...] = ()
    medication_changes: tuple[MedicationChange, ...] = ()
    events: tuple[ReportedEvent, ...] = ()


@dataclass(frozen=True)
class Freshness:
    """Whether the MT must be re-determined before the next session, and why."""

    stale: bool
    reasons: tuple[str, ...]
    action: str
    redetermination_cpt: str


@dataclass(frozen=True)
class BeamF3:
    """Scalp position of F3: X along the circumference from Fpz, Y from the vertex (Cz), in cm."""

    x_cm: float
    y_cm: float


def _validate(facts: MTFacts, today: date, policy: FreshnessPolicy) -> None:
    if facts.determined_on is not None:
        require_not_future("determined_on", facts.determined_on, today)
    for i, d in enumerate(facts.session_dates):
        require_not_future(f"session_dates[{i}]", d, today)
    for i, m in enumerate(facts.medication_changes):
        require_not_future(f"medication_changes[{i}].changed_on", m.changed_on, today)
    for i, e in enumerate(facts.events):
        require_not_future(f"events[{i}].on", e.on, today)
        if e.kind not in policy.event_triggers:
            raise RuleInputError(f"events[{i}].kind", f"must be one of {', '.join(policy.event_triggers)}")


def _is_cns_active(change: MedicationChange, policy: FreshnessPolicy) -> tuple[bool, str]:
    table = clinical_data.medications()
    entry = table.drug(change.drug)
    drug_class = change.drug_class or (entry.drug_class if entry else None)
    if drug_class is None:
        return policy.unknown_drug_counts_as_cns_active, f"{change.drug} (class unknown, assumed CNS-active)"
    return drug_class in table.cns_active_classes, f"{change.drug} ({drug_class})"


def _age_and_sessions(policy: FreshnessPolicy, facts: MTFacts, determined: date, today: date) -> list[str]:
    reasons = []
    age = (today - determined).days
    if age >= policy.max_age_days:
        reasons.append(f"last MT is {age} days old (limit: re-determine every {policy.max_age_days} days)")
    used = sorted(d for d in facts.session_dates if d >= determined)
    if len(used) >= policy.max_sessions:
        reasons.append(f"{len(used)} sessions run on this MT (limit {policy.max_sessions})")
    points = [determined, *used, today]
    gaps = [(b - a).days for a, b in zip(points, points[1:], strict=False)]
    if gaps and max(gaps) > policy.max_gap_days:
        reasons.append(f"treatment gap of {max(gaps)} days since the MT (limit {policy.max_gap_days})")
    return reasons


def _triggers(policy: FreshnessPolicy, facts: MTFacts, determined: date) -> list[str]:
    reasons = []
    for change in facts.medication_changes:
        if change.changed_on > determined:
            active, label = _is_cns_active(change, policy)
            if active:
                reasons.append(f"CNS-active medication changed on {change.changed_on.isoformat()}: {label}")
    for event in facts.events:
        if event.on > determined:
            reasons.append(f"{event.kind.replace('_', ' ')} reported on {event.on.isoformat()}")
    return reasons


def freshness(policy: FreshnessPolicy | None, facts: MTFacts, today: date) -> Freshness:
    """Is the latest MT still usable today? ``policy`` None uses the data file's policy."""
    pol = policy or clinical_data.motor_threshold().freshness
    _validate(facts, today, pol)
    if facts.determined_on is None:
        reasons = ["no motor threshold on record for this course"]
    else:
        reasons = _age_and_sessions(pol, facts, facts.determined_on, today) + _triggers(pol, facts, facts.determined_on)
    return Freshness(bool(reasons), tuple(reasons), pol.action, pol.redetermination_cpt)


def depth_adjusted_mt(
    mt_pct_mso: float, d_m1_mm: float, d_target_mm: float, *, pct_per_mm: float | None = None
) -> float:
    """MT corrected for scalp-to-cortex depth: MT + slope × (D_target − D_M1) (Stokes 2005, ~3%/mm)."""
    if not 0 < mt_pct_mso <= 100:
        raise RuleInputError("mt_pct_mso", f"must be above 0 and at most 100, got {mt_pct_mso}")
    for name, value in (("d_m1_mm", d_m1_mm), ("d_target_mm", d_target_mm)):
        if not 0 < value < 100:
            raise RuleInputError(name, f"scalp-to-cortex distance must be 0–100 mm, got {value}")
    slope = pct_per_mm if pct_per_mm is not None else clinical_data.motor_threshold().depth_adjustment.pct_per_mm
    return round(mt_pct_mso + slope * (d_target_mm - d_m1_mm), 2)


def beam_f3(tragus_tragus_cm: float, nasion_inion_cm: float, circumference_cm: float) -> BeamF3:
    """Beam F3 position from head measurements (webpage variant; validate before clinical use)."""
    for name, value in (
        ("tragus_tragus_cm", tragus_tragus_cm),
        ("nasion_inion_cm", nasion_inion_cm),
        ("circumference_cm", circumference_cm),
    ):
        if not 0 < value < 100:
            raise RuleInputError(name, f"must be a head measurement in cm (0–100), got {value}")
    k = clinical_data.motor_threshold().beam_f3
    r2, r1 = k.radius_factor * tragus_tragus_cm, k.radius_factor * nasion_inion_cm
    try:
        a = (r2 * math.sin(math.radians(k.angle_a_deg)) + r1 / 2) / r2
        b = r1 * math.sin(math.radians(k.angle_b_deg)) / (r1 * math.cos(math.radians(k.angle_b_deg)) - r2 / 2)
        x = 0.5 * (r1 - r2 * b) / (a - b)
        y = a * x - r1 / 2
        theta = math.degrees(math.atan(y / x))
    except ZeroDivisionError:
        # Measurements so small that the geometry collapses (a vanishing radius): no position, not a 500.
        smallest = min(("tragus_tragus_cm", tragus_tragus_cm), ("nasion_inion_cm", nasion_inion_cm), key=lambda m: m[1])
        raise RuleInputError(smallest[0], f"too small for the Beam F3 geometry, got {smallest[1]}") from None
    return BeamF3(x_cm=round(circumference_cm / 4 * (90 + theta) / 90, 2), y_cm=round(k.y_factor * math.hypot(x, y), 2))
