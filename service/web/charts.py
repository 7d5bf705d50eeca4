"""Charts drawn as inline SVG on the server: no chart library, readable without JavaScript, printable.

Each chart is one full-width panel. Every mark has a visible legend entry (nothing is explained by a tooltip
alone), reference lines carry their label on the line, and text is at least 14 user units, which stays above
12 px on a tablet (the chart is drawn at about its own width there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup, escape

W = 960
LEFT, RIGHT, TOP = 60, 24, 34  # TOP leaves room for adverse-event flags and their labels
PLOT_H = 220
FONT = 14  # user units; see the module docstring
LEGEND_ROW = 24
COLORS = ("#1f5fa8", "#b0531b", "#2e7d32", "#6a3d9a")
SESSION_COLORS = {"delivered": "#1f5fa8", "booked": "#1f5fa8", "missed": "#a61b1b"}
SESSION_WORDS = {"delivered": "session delivered", "booked": "session booked", "missed": "session missed"}


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]
    color: str = COLORS[0]
    step: bool = False  # a value in force until the next one (motor threshold)
    dashed: bool = False


@dataclass(frozen=True)
class HLine:
    label: str
    y: float
    color: str = "#8a5a00"
    kind: str = "ref"  # baseline, response, remission: a class name tests and styles can find


@dataclass(frozen=True)
class Marker:
    label: str
    x: float
    serious: bool = False
    short: str = ""  # the visible tag on the chart ("AE1"); the legend spells it out


@dataclass(frozen=True)
class SessionMark:
    x: float
    status: str  # delivered, booked or missed


@dataclass
class Chart:
    title: str
    x_min: float
    x_max: float
    y_min: float
    y_max: float
    series: list[Series] = field(default_factory=list)
    hlines: list[HLine] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    sessions: list[SessionMark] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_label: str = ""
    x_label: str = ""
    plot_height: int = PLOT_H

    @property
    def bottom(self) -> float:
        return TOP + self.plot_height

    def sx(self, x: float) -> float:
        span = (self.x_max - self.x_min) or 1
        return LEFT + (x - self.x_min) / span * (W - LEFT - RIGHT)

    def sy(self, y: float) -> float:
        span = (self.y_max - self.y_min) or 1
        return self.bottom - (y - self.y_min) / span * (self.bottom - TOP)


def day_ticks(start: date, end: date) -> list[tuple[float, str]]:
    """About eight ticks at whole days from the window's start (x is days since start), and the last day."""
    days = max((end - start).days, 1)
    step = max(1, -(-days // 8))
    ticks = [(float(d), (start + timedelta(days=d)).strftime("%b %d")) for d in range(0, days + 1, step)]
    if ticks[-1][0] != days and days - ticks[-1][0] >= step / 2:
        ticks.append((float(days), end.strftime("%b %d")))
    return ticks


def _text(x: float, y: float, body: str, cls: str = "tick", anchor: str = "start", fill: str | None = None) -> str:
    colour = f' fill="{fill}"' if fill else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}" font-size="{FONT}"{colour}>'
            f'{escape(body)}</text>')


def _axes(c: Chart) -> list[str]:
    out = [f'<line x1="{LEFT}" y1="{c.bottom}" x2="{W - RIGHT}" y2="{c.bottom}" class="axis x-axis"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{c.bottom}" class="axis y-axis"/>']
    for y in _nice(c.y_min, c.y_max) if c.y_label else []:
        out.append(_text(LEFT - 8, c.sy(y) + 5, f"{y:g}", anchor="end"))
        out.append(f'<line x1="{LEFT}" y1="{c.sy(y):.1f}" x2="{W - RIGHT}" y2="{c.sy(y):.1f}" class="grid"/>')
    for x, label in c.x_ticks:
        out.append(_text(c.sx(x), c.bottom + 20, label, cls="tick x-tick", anchor="middle"))
    if c.y_label:
        out.append(_text(4, TOP - 14, c.y_label))
    if c.x_label:
        out.append(_text(LEFT - 8, c.bottom + 20, c.x_label, anchor="end"))  # under the y-axis, clear of the ticks
    return out


def _nice(lo: float, hi: float) -> list[float]:
    span = hi - lo
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50, 100) if span / s <= 6), 100)
    first = int(lo // step) * step
    return [v for v in range(int(first), int(hi) + 1, step) if v >= lo]


def _series(c: Chart, s: Series) -> list[str]:
    pts: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(s.points):
        if s.step and i:
            pts.append((c.sx(x), pts[-1][1]))
        pts.append((c.sx(x), c.sy(y)))
    if s.step and s.points:
        pts.append((c.sx(c.x_max), pts[-1][1]))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    dash = ' stroke-dasharray="8 5"' if s.dashed else ""
    out = [f'<polyline class="series" data-label="{escape(s.label)}" points="{path}" fill="none" '
           f'stroke="{s.color}" stroke-width="2.5"{dash}/>']
    if not s.dashed:
        for x, y in s.points:
            tip = escape(f"{s.label}: {y:g}")
            out.append(f'<circle class="point" data-x="{x:g}" data-y="{y:g}" cx="{c.sx(x):.1f}" cy="{c.sy(y):.1f}" '
                       f'r="4" fill="{s.color}"><title>{tip}</title></circle>')
    return out


def _hlines(c: Chart) -> list[str]:
    out = []
    for h in c.hlines:
        y = c.sy(h.y)
        dash = "" if h.kind == "baseline" else ' stroke-dasharray="6 4"'
        out.append(f'<line class="ref ref-{h.kind}" data-value="{h.y:g}" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" '
                   f'y2="{y:.1f}" stroke="{h.color}" stroke-width="1.5"{dash}/>')
        out.append(_text(W - RIGHT - 4, y - 5, h.label, cls=f"hlabel ref-label-{h.kind}", anchor="end", fill=h.color))
    return out


def _session_marks(c: Chart) -> list[str]:
    out = []
    for m in c.sessions:
        x, color = c.sx(m.x), SESSION_COLORS.get(m.status, "#5b6574")
        fill = "#fff" if m.status == "booked" else color
        out.append(f'<rect class="session session-{m.status}" data-x="{m.x:g}" x="{x - 3:.1f}" y="{c.bottom - 12}" '
                   f'width="6" height="10" fill="{fill}" stroke="{color}" stroke-width="1.2"/>')
    return out


def _ae_markers(c: Chart) -> list[str]:
    out = []
    for m in c.markers:
        x, color = c.sx(m.x), "#a61b1b" if m.serious else "#c77700"
        out.append(f'<g class="ae-marker{" serious" if m.serious else ""}" data-x="{m.x:g}">'
                   f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{c.bottom}" stroke="{color}" stroke-width="1.2"/>'
                   f'<path d="M{x - 7:.1f},{TOP - 12} L{x + 7:.1f},{TOP - 12} L{x:.1f},{TOP}Z" fill="{color}">'
                   f'<title>{escape(m.label)}</title></path>'
                   + (_text(x + 9, TOP - 2, m.short, cls="tick ae-tag", fill=color) if m.short else "") + "</g>")
    return out


def _swatch(kind: str, color: str, x: float, y: float) -> str:
    mid = y - 5
    if kind == "line":
        return (f'<line x1="{x}" y1="{mid}" x2="{x + 22}" y2="{mid}" stroke="{color}" stroke-width="2.5"/>'
                f'<circle cx="{x + 11}" cy="{mid}" r="4" fill="{color}"/>')
    if kind in ("dashed", "baseline"):
        dash = "" if kind == "baseline" else ' stroke-dasharray="6 4"'
        return f'<line x1="{x}" y1="{mid}" x2="{x + 22}" y2="{mid}" stroke="{color}" stroke-width="2"{dash}/>'
    if kind.startswith("session-"):
        fill = "#fff" if kind == "session-booked" else color
        return (f'<rect x="{x + 8}" y="{mid - 5}" width="6" height="10" fill="{fill}" stroke="{color}" '
                f'stroke-width="1.2"/>')
    return f'<path d="M{x + 4},{mid - 6} L{x + 18},{mid - 6} L{x + 11},{mid + 6}Z" fill="{color}"/>'


def _legend_items(c: Chart) -> list[tuple[str, str, str, str]]:
    """(data-kind, swatch kind, colour, text) for every kind of mark the chart draws."""
    items = [("series", "dashed" if s.dashed else "line", s.color, s.label) for s in c.series]
    items += [(h.kind, "baseline" if h.kind == "baseline" else "dashed", h.color, h.label) for h in c.hlines]
    for status in ("delivered", "booked", "missed"):
        if any(m.status == status for m in c.sessions):
            items.append((f"session-{status}", f"session-{status}", SESSION_COLORS[status], SESSION_WORDS[status]))
    for m in c.markers:
        items.append(("adverse-event", "ae", "#a61b1b" if m.serious else "#c77700",
                      f"{m.short}: {m.label}" if m.short else m.label))
    return items


def _legend(c: Chart) -> tuple[list[str], int]:
    """The legend under the x-axis labels, wrapped onto as many rows as it needs; returns its parts and height."""
    out, x, row = ['<g class="legend">'], float(LEFT), 0
    top = c.bottom + 46
    for kind, swatch, color, text in _legend_items(c):
        width = 30 + 0.56 * FONT * len(text) + 18
        if x + width > W - RIGHT and x > LEFT:
            x, row = float(LEFT), row + 1
        y = top + row * LEGEND_ROW
        out.append(f'<g class="legend-item" data-kind="{kind}">{_swatch(swatch, color, x, y)}'
                   f'{_text(x + 28, y, text, cls="tick legend-text")}</g>')
        x += width
    out.append("</g>")
    rows = row + 1 if len(out) > 2 else 0
    return out, rows * LEGEND_ROW


def render(c: Chart) -> Markup:
    """The chart as an accessible inline SVG element."""
    legend, legend_h = _legend(c)
    height = int(c.bottom + 30 + legend_h + 8)
    parts = [f'<svg class="chart" viewBox="0 0 {W} {height}" role="img" aria-label="{escape(c.title)}" '
             f'data-x-min="{c.x_min:g}" data-x-max="{c.x_max:g}" data-y-min="{c.y_min:g}" data-y-max="{c.y_max:g}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(c.title)}</title>']
    parts += _axes(c) + _hlines(c) + _session_marks(c) + _ae_markers(c)
    for s in c.series:
        parts += _series(c, s)
    parts += legend
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped
