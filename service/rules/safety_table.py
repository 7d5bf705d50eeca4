"""The IFCN single-train safety table (Rossi 2009 Table 4) and the inter-train-interval rule.

Table 4 ("modified from Wassermann 1998") gives the maximum single-train duration for a figure-8
coil over motor cortex in healthy subjects; cells marked ">" are the longest duration tested without
adverse effect (longer is untested, not proven unsafe). Values live in
``config/clinical/safety_table.json``; the 25 Hz 100–120% cells are [U] and flagged unverified.
Examples (docs/clinical-rules.md#single-train-limits): 10 Hz at 120% MT allows 4.2 s (a 4 s train passes, 5 s fails);
20 Hz at 110% allows 1.6 s (1.7 s fails). Lookups are conservative: a frequency between rows uses
the next higher row, an intensity between columns the next higher column; intensities under the
lowest column use that column; anything above the table is outside it.

Inter-train rule (Chen 1997 [C]): 20 Hz × 1.6 s at 110% MT was safe with 5 s ITI; ITI ≤ 1 s was
unsafe above 100% MT. Custom high-frequency protocols with ITI < 5 s go to physician review
(Rossi 2009 Table 5 grid not retrieved: [U]).

Public API::

    single_train_limit(frequency_hz: float, intensity_pct_mt: float) -> TrainLimit | None
    check_train(frequency_hz, intensity_pct_mt, train_duration_s) -> list[Violation]
    check_iti(frequency_hz, intensity_pct_mt, iti_s, trains) -> list[Violation]
    check_schedule(frequency_hz, intensity_pct_mt, train_duration_s, iti_s, trains) -> list[Violation]

The schedule as a whole: at low frequency (≤ ``inter_train.applies_above_hz``, where the ITI rule does
not apply) trains closer together than ``inter_train.continuous_below_iti_s`` (5 s, the Chen 1997 minimum
ITI) are one continuous train from the first pulse to the last, checked against the same cell. Ten 300 s
trains at 1 Hz with 0 s between them are 3000 s of continuous stimulation.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import clinical_data

_EPS = 1e-9


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, its limit, the offending value and a sentence saying so."""

    rule: str
    limit: float | str | None
    value: float | str | None
    message: str


@dataclass(frozen=True)
class TrainLimit:
    """The table cell that applies, after the configured safety margin."""

    row_frequency_hz: float
    column_intensity_pct: float
    max_train_s: float
    max_pulses: int
    longest_tested: bool
    verified: bool


def single_train_limit(frequency_hz: float, intensity_pct_mt: float) -> TrainLimit | None:
    """The applicable Table 4 cell, or None when the parameters lie outside the table."""
    table = clinical_data.safety_table()
    row = next((r for r in table.rows if r.frequency_hz >= frequency_hz - _EPS), None)
    if row is None or intensity_pct_mt > table.intensities_pct[-1] + _EPS:
        return None
    col = next(i for i, pct in enumerate(table.intensities_pct) if pct >= intensity_pct_mt - _EPS)
    cell = row.cells[col]
    margin = table.safety_margin_factor
    return TrainLimit(
        row_frequency_hz=row.frequency_hz,
        column_intensity_pct=table.intensities_pct[col],
        max_train_s=round(cell.max_train_s * margin, 4),
        max_pulses=int(cell.max_pulses * margin),
        longest_tested=cell.longest_tested,
        verified=cell.verified,
    )


def check_train(frequency_hz: float, intensity_pct_mt: float, train_duration_s: float) -> list[Violation]:
    """Violations of the single-train table for one train (empty list: within the table)."""
    limit = single_train_limit(frequency_hz, intensity_pct_mt)
    if limit is None:
        table = clinical_data.safety_table()
        top_hz, top_pct = table.rows[-1].frequency_hz, table.intensities_pct[-1]
        return [
            Violation(
                "ifcn_table_coverage",
                f"≤ {top_hz:g} Hz and ≤ {top_pct:g}% MT",
                f"{frequency_hz:g} Hz at {intensity_pct_mt:g}% MT",
                f"{frequency_hz:g} Hz at {intensity_pct_mt:g}% MT lies outside the IFCN safety table (Rossi 2009 "
                f"Table 4), which has no cell above {top_pct:g}% MT or {top_hz:g} Hz (limit: ≤ {top_hz:g} Hz and "
                f"≤ {top_pct:g}% MT); a psychiatrist's signed override is needed.",
            )
        ]
    cell = f"{limit.row_frequency_hz:g} Hz / {limit.column_intensity_pct:g}% MT"
    found = []
    if train_duration_s > limit.max_train_s + _EPS:
        kind = "longest tested duration" if limit.longest_tested else "maximum safe train duration"
        found.append(
            Violation(
                "ifcn_single_train",
                limit.max_train_s,
                train_duration_s,
                f"Train of {train_duration_s:g} s exceeds the {kind} of {limit.max_train_s:g} s "
                f"for {cell} (Rossi 2009 Table 4).",
            )
        )
    if not limit.verified:
        found.append(
            Violation(
                "ifcn_cell_unverified",
                None,
                cell,
                f"The safety-table cell {cell} is unverified in the reference; a psychiatrist must sign off.",
            )
        )
    return found


def check_iti(frequency_hz: float, intensity_pct_mt: float, iti_s: float, trains: int) -> list[Violation]:
    """Violations of the inter-train-interval rule (Chen 1997); single trains have no ITI to check."""
    rule = clinical_data.safety_table().inter_train
    if trains < 2 or frequency_hz <= rule.applies_above_hz:
        return []
    if iti_s <= rule.unsafe_iti_s + _EPS and intensity_pct_mt > 100:
        return [
            Violation(
                "iti_unsafe",
                rule.unsafe_iti_s,
                iti_s,
                f"An inter-train interval of {iti_s:g} s above 100% MT was unsafe in Chen 1997 "
                f"(≤ {rule.unsafe_iti_s:g} s).",
            )
        ]
    if iti_s < rule.min_iti_s - _EPS:
        return [
            Violation(
                "iti_minimum",
                rule.min_iti_s,
                iti_s,
                f"Inter-train interval {iti_s:g} s is below {rule.min_iti_s:g} s for a high-frequency protocol "
                "(Chen 1997); physician review needed.",
            )
        ]
    return []


def check_schedule(
    frequency_hz: float, intensity_pct_mt: float, train_duration_s: float, iti_s: float, trains: int
) -> list[Violation]:
    """Violations of the table by trains that run together (too short a pause) into one continuous train."""
    rule = clinical_data.safety_table().inter_train
    # Above applies_above_hz the inter-train rule (check_iti) already refuses pauses this short.
    if trains < 2 or frequency_hz > rule.applies_above_hz + _EPS or iti_s >= rule.continuous_below_iti_s - _EPS:
        return []
    limit = single_train_limit(frequency_hz, intensity_pct_mt)
    continuous = round(trains * train_duration_s + (trains - 1) * iti_s, 3)
    if limit is None or continuous <= limit.max_train_s + _EPS:
        return []  # outside the table altogether is reported by check_train
    cell = f"{limit.row_frequency_hz:g} Hz / {limit.column_intensity_pct:g}% MT"
    return [
        Violation(
            "ifcn_continuous",
            limit.max_train_s,
            continuous,
            f"{trains} trains of {train_duration_s:g} s with {iti_s:g} s between them are {continuous:g} s of "
            f"continuous stimulation (pauses under {rule.continuous_below_iti_s:g} s do not separate trains), "
            f"above the {limit.max_train_s:g} s limit for {cell} (Rossi 2009 Table 4).",
        )
    ]
