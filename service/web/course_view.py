"""The course dashboard's charts, built from the course record on one shared time axis."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from config import clinical_data
from service.documents.record import CourseRecord
from service.web import charts


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(tz).date()


def time_axis(record: CourseRecord, today: date) -> tuple[date, date]:
    """From the course start (or first booking) to the later of today and the last booking."""
    tz = ZoneInfo(record.clinic.timezone)
    days = [_local_day(b.start_at, tz) for b in record.bookings]
    days += [_local_day(a.administered_at, tz) for a in record.assessments]
    start = record.course.start_date or (min(days) if days else _local_day(record.course.ordered_at, tz))
    start = min([start, *days]) if days else start
    return start, max([today, *days])


def _markers(record: CourseRecord, start: date) -> list[charts.Marker]:
    tz = ZoneInfo(record.clinic.timezone)
    return [charts.Marker(f"AE: {e.term} (grade {e.grade}{', serious' if e.serious else ''})",
                          (_local_day(e.onset_at, tz) - start).days, e.serious) for e in record.adverse_events]


def _thresholds(instrument: str, baseline: int | None) -> list[charts.HLine]:
    inst = next((i for i in clinical_data.scales().instruments if i.id == instrument), None)
    out = []
    if baseline:
        pct = clinical_data.scales().response_min_reduction_pct
        out.append(charts.HLine(f"response ≤ {baseline * (100 - pct) / 100:g} (−{pct}%)",
                                baseline * (100 - pct) / 100, "#2e7d32"))
    if inst is not None and inst.remission is not None:
        sign = "<" if inst.remission.op == "lt" else "≤"
        out.append(charts.HLine(f"remission {sign} {inst.remission.value}", inst.remission.value, "#6a3d9a"))
    return out


def trajectories(record: CourseRecord, today: date) -> list[dict[str, Any]]:
    """One chart per instrument: totals over time, response and remission lines, adverse events."""
    tz = ZoneInfo(record.clinic.timezone)
    start, end = time_axis(record, today)
    out = []
    for instrument in sorted({a.instrument for a in record.assessments}):
        rows = [a for a in record.assessments if a.instrument == instrument]
        baseline = rows[0].baseline_total if rows[0].baseline_total is not None else rows[0].total
        chart = charts.Chart(
            title=f"{instrument} total over the course", x_min=0, x_max=max((end - start).days, 1), y_min=0,
            y_max=rows[0].max_total, y_label="total",
            series=[charts.Series(instrument, [((_local_day(a.administered_at, tz) - start).days, a.total)
                                               for a in rows])],
            hlines=_thresholds(instrument, baseline), markers=_markers(record, start),
            x_ticks=charts.day_ticks(start, end))
        out.append({"instrument": instrument, "svg": charts.render(chart), "rows": rows, "baseline": baseline})
    return out


def intensity_chart(record: CourseRecord) -> Markup | None:
    """Motor threshold and delivered output (% of machine output) per delivered session."""
    delivered = [s for s in record.delivered() if s.output_pct_mso is not None]
    if not delivered:
        return None
    xs = [float(s.session_number or i + 1) for i, s in enumerate(delivered)]
    mt = [(x, float(s.mt_pct_mso)) for x, s in zip(xs, delivered, strict=True) if s.mt_pct_mso is not None]
    out = [(x, float(s.output_pct_mso or 0)) for x, s in zip(xs, delivered, strict=True)]
    top = max(y for _, y in mt + out)
    chart = charts.Chart(
        title="Motor threshold and delivered intensity by session", x_min=min(xs) - 0.5, x_max=max(xs) + 0.5,
        y_min=0, y_max=min(100, top + 10), y_label="% MSO",
        series=[charts.Series("MT (% MSO)", mt, charts.COLORS[1], step=True),
                charts.Series("delivered (% MSO)", out, charts.COLORS[0])],
        x_ticks=[(x, f"#{x:g}") for x in xs[:: max(1, len(xs) // 8)]])
    return charts.render(chart)


def ae_timeline(record: CourseRecord, today: date) -> Markup | None:
    """Adverse events on the same time axis as the scale charts."""
    if not record.adverse_events:
        return None
    start, end = time_axis(record, today)
    chart = charts.Chart(title="Adverse events over the course", x_min=0, x_max=max((end - start).days, 1),
                         y_min=0, y_max=1, markers=_markers(record, start), x_ticks=charts.day_ticks(start, end),
                         height=90)
    return charts.render(chart)
