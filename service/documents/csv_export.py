"""A course's sessions as CSV: one row per booking, delivered values beside the prescription, deviations."""

from __future__ import annotations

import csv
import io

from service.documents import sessions_table
from service.documents.record import CourseRecord

COLUMNS = ("sequence", "local_start", "booking_status", "session_id", "status", "cpt_code", "protocol_id",
           "frequency_hz", "intensity_pct_mt", "mt_pct_mso", "output_pct_mso", "pulses_planned", "pulses_delivered",
           "trains_planned", "trains_delivered", "max_coil_temp_c", "technician", "end_reason", "deviations")
# Cells starting with these are read as formulas by spreadsheets (CSV injection); they get a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def render(record: CourseRecord) -> str:
    """The CSV text, with the prescription in a header comment line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in sessions_table.rows(record):
        values = row.as_dict() | {"local_start": row.local_start.isoformat()}
        writer.writerow([_cell(values[c]) for c in COLUMNS])
    return out.getvalue()
