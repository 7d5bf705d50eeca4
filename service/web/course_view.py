"""The course dashboard's charts, built from the course record on the course's own time window."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from config import clinical_data
from service.documents.record import CourseRecord
from service.models.bookings import BookingStatus
from service.web import charts
from service.web.labels import label

DELIVERED = (BookingStatus.completed.value, BookingStatus.interrupted.value)
MISSED = (BookingStatus.no_show.value,)
# Cancelled bookings are not sessions of the course: they neither mark the chart nor stretch its window.
NOT_SESSIONS = (BookingStatus.cancelled.value, BookingStatus.aborted.value)


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(tz).date()


def _session_status(status: str) -> str:
    return "delivered" if status in DELIVERED else "missed" if status in MISSED else "booked"


def time_axis(record: CourseRecord, today: date | None = None) -> tuple[date, date]:
    """The course's own window: from its first to its last session (delivered, booked or missed), widened to take
    in the scores and adverse events recorded outside it (a baseline rating is often taken before session 1).
    ``today`` is used only when the course has nothing dated yet."""
    tz = ZoneInfo(record.clinic.timezone)
    days = [_local_day(b.start_at, tz) for b in record.bookings if b.status not in NOT_SESSIONS]
    days += [_local_day(a.administered_at, tz) for a in record.assessments]
    days += [_local_day(e.onset_at, tz) for e in record.adverse_events]
    if not days:
        start = record.course.start_date or _local_day(record.course.ordered_at, tz)
        return start, max(start + timedelta(days=1), today or start)
    start, end = min(days), max(days)
    return start, max(end, start + timedelta(days=1))


def _sessions(record: CourseRecord, start: date) -> list[charts.SessionMark]:
    tz = ZoneInfo(record.clinic.timezone)
    return [charts.SessionMark(float((_local_day(b.start_at, tz) - start).days), _session_status(b.status))
            for b in record.bookings if b.status not in NOT_SESSIONS]


def _markers(record: CourseRecord, start: date) -> list[charts.Marker]:
    tz = ZoneInfo(record.clinic.timezone)
    events = sorted(record.adverse_events, key=lambda e: (e.onset_at, e.id or 0))
    return [charts.Marker(f"{label(e.term)}, grade {e.grade}{', serious' if e.serious else ''} "
                          f"({_local_day(e.onset_at, tz).strftime('%b %d')})",
                          float((_local_day(e.onset_at, tz) - start).days), e.serious, short=f"AE{i}")
            for i, e in enumerate(events, start=1)]


def thresholds(instrument: str, baseline: int | None) -> list[charts.HLine]:
    """Baseline, response (the configured drop from baseline, 50%) and the instrument's remission cut-off."""
    inst = next((i for i in clinical_data.scales().instruments if i.id == instrument), None)
    out = []
    if baseline:
        pct = clinical_data.scales().response_min_reduction_pct
        out.append(charts.HLine(f"baseline {baseline}", baseline, "#5b6574", kind="baseline"))
        out.append(charts.HLine(f"response ≤ {baseline * (100 - pct) / 100:g} (−{pct}% from baseline)",
                                baseline * (100 - pct) / 100, "#2e7d32", kind="response"))
    if inst is not None and inst.remission is not None:
        sign = "<" if inst.remission.op == "lt" else "≤"
        out.append(charts.HLine(f"remission {sign} {inst.remission.value}", inst.remission.value, "#6a3d9a",
                                kind="remission"))
    return out


def trajectories(record: CourseRecord, today: date) -> list[dict[str, Any]]:
    """One full-width chart per instrument: totals over the course window with baseline, response and remission
    lines, the course's sessions along the axis, and its adverse events."""
    tz = ZoneInfo(record.clinic.timezone)
    start, end = time_axis(record, today)
    out = []
    for instrument in sorted({a.instrument for a in record.assessments}):
        rows = [a for a in record.assessments if a.instrument == instrument]
        baseline = rows[0].baseline_total if rows[0].baseline_total is not None else rows[0].total
        chart = charts.Chart(
            title=f"{instrument} total over the course", x_min=0, x_max=float((end - start).days), y_min=0,
            y_max=rows[0].max_total, y_label=f"{instrument} total",
            series=[charts.Series(f"{instrument} total", [((_local_day(a.administered_at, tz) - start).days,
                                                           a.total) for a in rows])],
            hlines=thresholds(instrument, baseline), markers=_markers(record, start),
            sessions=_sessions(record, start), x_ticks=charts.day_ticks(start, end))
        out.append({"instrument": instrument, "svg": charts.render(chart), "rows": rows, "baseline": baseline})
    return out


def intensity_chart(record: CourseRecord) -> Markup | None:
    """Motor threshold, prescribed output (MT × the prescribed % MT) and delivered output, by session number,
    from session 1 to the course's last planned or delivered session."""
    delivered = [s for s in record.delivered() if s.output_pct_mso is not None]
    if not delivered:
        return None
    xs = [float(s.session_number or i + 1) for i, s in enumerate(delivered)]
    pairs = list(zip(xs, delivered, strict=True))
    mt = [(x, float(s.mt_pct_mso)) for x, s in pairs if s.mt_pct_mso is not None]
    prescribed = [(x, float(s.mt_pct_mso) * float(s.intensity_pct_mt or record.course.intensity_pct_mt) / 100)
                  for x, s in pairs if s.mt_pct_mso is not None]
    out = [(x, float(s.output_pct_mso or 0)) for x, s in pairs]
    last = max([*xs, float(record.planned_sessions), float(len([b for b in record.bookings
                                                                 if b.status not in NOT_SESSIONS]))])
    top = max(y for _, y in mt + out + prescribed)
    step = max(1, int(last) // 12)
    chart = charts.Chart(
        title="Motor threshold, prescribed and delivered intensity by session", x_min=0.5, x_max=last + 0.5,
        y_min=0, y_max=min(100, top + 10), y_label="% MSO", x_label="session",
        series=[charts.Series("motor threshold (% MSO)", mt, charts.COLORS[1], step=True),
                charts.Series(f"prescribed ({record.course.intensity_pct_mt:g}% of MT)", prescribed, "#2e7d32",
                              step=True, dashed=True),
                charts.Series("delivered (% MSO)", out, charts.COLORS[0])],
        x_ticks=[(float(n), f"#{n}") for n in range(1, int(last) + 1, step)])
    return charts.render(chart)


def ae_timeline(record: CourseRecord, today: date) -> Markup | None:
    """Adverse events and sessions on the same course window as the scale charts."""
    if not record.adverse_events:
        return None
    start, end = time_axis(record, today)
    chart = charts.Chart(title="Adverse events over the course", x_min=0, x_max=float((end - start).days),
                         y_min=0, y_max=1, markers=_markers(record, start), sessions=_sessions(record, start),
                         x_ticks=charts.day_ticks(start, end), plot_height=60)
    return charts.render(chart)
