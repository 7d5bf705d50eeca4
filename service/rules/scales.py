"""Rating scales: item validation, totals, severity bands, response, remission, suicide-item alerts.

Definitions live in ``config/clinical/scales.json`` (PHQ-9 with the difficulty item, HAM-D17, MADRS,
QIDS-SR16 with domain maxima, GAD-7). Numbers and their sources (docs/clinical-rules.md#rating-scales):

- PHQ-9 bands 0–4/5–9/10–14/15–19/20–27, remission < 5 (Kroenke 2001; NCQA HEDIS) [C].
- HAM-D17 bands 0–7/8–16/17–23/≥24 (Zimmerman 2013) [S]; remission ≤ 7 (STAR*D) [C].
- MADRS bands (Snaith 1986) [U]; remission ≤ 10 [S]. QIDS-SR16 remission ≤ 5 (STAR*D) [C].
- Response = reduction of at least 50% from the course baseline on the same instrument [C: HEDIS].
- PHQ-9 item 9 > 0 raises a suicide-risk alert [U as a formal rule]; HAM-D item 3, MADRS item 10 and
  QIDS item 12 use the thresholds in the data file [U].

Public API::

    score(instrument: str, items: Sequence[int | None], *, baseline_total: int | None = None) -> ScaleResult
    definition(name: str) -> Instrument          # by id or alias, case-insensitive
    instrument_ids() -> tuple[str, ...]

Items are given in questionnaire order; error fields use the 0-based list index (``items[8]`` is PHQ-9
item 9), matching FastAPI's 422 ``loc``. Optional unscored items (PHQ-9 difficulty) may be omitted or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config import clinical_data
from config.clinical_data import Instrument
from service.rules.errors import RuleInputError


@dataclass(frozen=True)
class ScaleAlert:
    """A suicide-risk alert: stays open until a psychiatrist records a response."""

    code: str
    instrument: str
    item_number: int
    value: int
    threshold: int
    message: str


@dataclass(frozen=True)
class ItemCode:
    """One answered item with its LOINC question code and answer code, where known."""

    number: int
    value: int
    loinc: str | None
    answer_code: str | None


@dataclass(frozen=True)
class ScaleResult:
    """A scored assessment with the reasons for each derived flag."""

    instrument: str
    definition_version: str
    total: int
    max_total: int
    severity: str
    baseline_total: int | None
    percent_change: float | None
    response: bool | None
    remission: bool | None
    alerts: tuple[ScaleAlert, ...]
    item_codes: tuple[ItemCode, ...]
    total_code: str | None
    panel_code: str | None
    domain_scores: tuple[tuple[str, int], ...]
    reasons: tuple[str, ...]


def instrument_ids() -> tuple[str, ...]:
    """Ids of every defined instrument."""
    return tuple(i.id for i in clinical_data.scales().instruments)


def definition(name: str) -> Instrument:
    """The instrument named ``name`` (id or alias, case-insensitive); RuleInputError if unknown."""
    wanted = name.strip().upper() if isinstance(name, str) else ""
    for inst in clinical_data.scales().instruments:
        if wanted == inst.id.upper() or wanted in (a.upper() for a in inst.aliases):
            return inst
    raise RuleInputError("instrument", f"unknown instrument {name!r}; known: {', '.join(instrument_ids())}")


def _validate_items(inst: Instrument, items: Sequence[int | None]) -> dict[int, int]:
    """Check count and per-item range; return answered values by item number."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise RuleInputError("items", "must be a list of integers")
    required = sum(1 for i in inst.items if i.required)
    if not required <= len(items) <= len(inst.items):
        expect = str(required) if required == len(inst.items) else f"{required} to {len(inst.items)}"
        raise RuleInputError("items", f"{inst.id} needs {expect} items, got {len(items)}")
    values: dict[int, int] = {}
    for idx, (item, value) in enumerate(zip(inst.items, items, strict=False)):
        if value is None and not item.required:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleInputError(f"items[{idx}]", f"{inst.id} item {item.number} must be an integer")
        if not item.min <= value <= item.max:
            raise RuleInputError(
                f"items[{idx}]",
                f"{inst.id} item {item.number} ({item.label}) must be {item.min}–{item.max}, got {value}",
            )
        values[item.number] = value
    return values


def _total(inst: Instrument, values: dict[int, int]) -> tuple[int, tuple[tuple[str, int], ...]]:
    """Sum of scored items, or of domain maxima (QIDS-SR16)."""
    if inst.scoring.method == "domains":
        domains = tuple((d.name, max(values[n] for n in d.items)) for d in inst.scoring.domains)
        return sum(s for _, s in domains), domains
    return sum(values[i.number] for i in inst.items if i.scored and i.number in values), ()


def severity_of(inst: Instrument, total: int) -> str:
    """The severity band label for ``total``."""
    for band in inst.severity_bands:
        if band.min <= total <= band.max:
            return band.label
    raise RuleInputError("total", f"{total} is outside {inst.id}'s range 0–{inst.max_total}")


def _remission(inst: Instrument, total: int) -> tuple[bool | None, str]:
    rule = inst.remission
    if rule is None:
        return None, f"{inst.id} has no remission cut-off"
    met = total < rule.value if rule.op == "lt" else total <= rule.value
    sign = "<" if rule.op == "lt" else "≤"
    return met, f"remission {'met' if met else 'not met'}: total {total}, cut-off {sign} {rule.value}"


def _change(total: int, baseline: int | None, inst: Instrument) -> tuple[float | None, bool | None, str]:
    """Percent change from baseline (negative = improvement) and response (exact integer test)."""
    pct = clinical_data.scales().response_min_reduction_pct
    if baseline is None:
        return None, None, "no baseline: response not assessed"
    if isinstance(baseline, bool) or not isinstance(baseline, int) or not 0 <= baseline <= inst.max_total:
        raise RuleInputError("baseline_total", f"must be an integer 0–{inst.max_total}, got {baseline!r}")
    if baseline == 0:
        return None, None, "baseline total is 0: percent change undefined"
    change = round((total - baseline) * 100 / baseline, 1)
    response = (baseline - total) * 100 >= pct * baseline
    verdict = "met" if response else "not met"
    return change, response, f"response {verdict}: {total} vs baseline {baseline} ({change:+.1f}%, needs ≤ -{pct}%)"


def _alerts(inst: Instrument, values: dict[int, int]) -> tuple[ScaleAlert, ...]:
    alerts = []
    for rule in inst.suicide_items:
        value = values.get(rule.number)
        if value is not None and value > rule.alert_above:
            label = inst.items[rule.number - 1].label
            alerts.append(
                ScaleAlert(
                    code="suicide_risk",
                    instrument=inst.id,
                    item_number=rule.number,
                    value=value,
                    threshold=rule.alert_above,
                    message=(
                        f"{inst.id} item {rule.number} ({label}) scored {value}: a psychiatrist must assess "
                        "suicide risk today and record a response before the next treatment session"
                    ),
                )
            )
    return tuple(alerts)


def _codes(inst: Instrument, values: dict[int, int]) -> tuple[ItemCode, ...]:
    # The answer list (PHQ-9: LL358-3) belongs to the scored items; the difficulty item uses another list.
    return tuple(
        ItemCode(
            number=n,
            value=v,
            loinc=inst.items[n - 1].loinc,
            answer_code=inst.answer_codes.get(str(v)) if inst.items[n - 1].scored else None,
        )
        for n, v in sorted(values.items())
    )


def score(instrument: str, items: Sequence[int | None], *, baseline_total: int | None = None) -> ScaleResult:
    """Validate and score one administration of ``instrument``, comparing with ``baseline_total``."""
    inst = definition(instrument)
    values = _validate_items(inst, items)
    total, domains = _total(inst, values)
    severity = severity_of(inst, total)
    remission, remission_reason = _remission(inst, total)
    change, response, response_reason = _change(total, baseline_total, inst)
    alerts = _alerts(inst, values)
    reasons = (f"total {total} of {inst.max_total}: {severity}", remission_reason, response_reason) + tuple(
        a.message for a in alerts
    )
    return ScaleResult(
        instrument=inst.id,
        definition_version=clinical_data.scales().version,
        total=total,
        max_total=inst.max_total,
        severity=severity,
        baseline_total=baseline_total,
        percent_change=change,
        response=response,
        remission=remission,
        alerts=alerts,
        item_codes=_codes(inst, values),
        total_code=inst.loinc_total,
        panel_code=inst.loinc_panel,
        domain_scores=domains,
        reasons=reasons,
    )
