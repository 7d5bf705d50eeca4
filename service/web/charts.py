"""Charts drawn as inline SVG on the server: no chart library, readable without JavaScript, printable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup, escape

W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 30, 16, 36
COLORS = ("#1f5fa8", "#b0531b", "#2e7d32", "#6a3d9a")


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]
    color: str = COLORS[0]
    step: bool = False  # a value in force until the next one (motor threshold)


@dataclass(frozen=True)
class HLine:
    label: str
    y: float
    color: str = "#8a5a00"


@dataclass(frozen=True)
class Marker:
    label: str
    x: float
    serious: bool = False


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
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_label: str = ""
    height: int = H

    @property
    def bottom(self) -> float:
        return self.height - BOTTOM

    def sx(self, x: float) -> float:
        span = (self.x_max - self.x_min) or 1
        return LEFT + (x - self.x_min) / span * (W - LEFT - RIGHT)

    def sy(self, y: float) -> float:
        span = (self.y_max - self.y_min) or 1
        return self.bottom - (y - self.y_min) / span * (self.bottom - TOP)


def day_ticks(start: date, end: date) -> list[tuple[float, str]]:
    """About six ticks at whole weeks from the course start: x is days since start."""
    days = max((end - start).days, 1)
    step = max(7, (days // 6 + 6) // 7 * 7)
    return [(d, (start + timedelta(days=d)).strftime("%b %d")) for d in range(0, days + 1, step)]


def _axes(c: Chart) -> list[str]:
    out = [f'<line x1="{LEFT}" y1="{c.bottom}" x2="{W - RIGHT}" y2="{c.bottom}" class="axis"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{c.bottom}" class="axis"/>']
    for y in _nice(c.y_min, c.y_max) if c.y_label else []:
        out.append(f'<text x="{LEFT - 6}" y="{c.sy(y) + 4:.1f}" text-anchor="end" class="tick">{y:g}</text>')
        out.append(f'<line x1="{LEFT}" y1="{c.sy(y):.1f}" x2="{W - RIGHT}" y2="{c.sy(y):.1f}" class="grid"/>')
    for x, label in c.x_ticks:
        out.append(f'<text x="{c.sx(x):.1f}" y="{c.bottom + 16}" text-anchor="middle" class="tick">'
                   f'{escape(label)}</text>')
    if c.y_label:
        out.append(f'<text x="12" y="{TOP + 4}" class="tick">{escape(c.y_label)}</text>')
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
    out = [f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"/>']
    for x, y in s.points:
        tip = escape(f"{s.label}: {y:g}")
        out.append(f'<circle cx="{c.sx(x):.1f}" cy="{c.sy(y):.1f}" r="3.5" fill="{s.color}"><title>{tip}</title>'
                   f'</circle>')
    return out


def _overlays(c: Chart) -> list[str]:
    out = []
    for h in c.hlines:
        y = c.sy(h.y)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="{h.color}" '
                   f'stroke-dasharray="6 4" stroke-width="1.5"/>')
        out.append(f'<text x="{W - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end" class="hlabel" '
                   f'fill="{h.color}">{escape(h.label)}</text>')
    for m in c.markers:
        x, color = c.sx(m.x), "#a61b1b" if m.serious else "#c77700"
        out.append(f'<g class="ae-marker"><line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{c.bottom}" '
                   f'stroke="{color}" stroke-width="1"/><path d="M{x - 6:.1f},{TOP} L{x + 6:.1f},{TOP} '
                   f'L{x:.1f},{TOP + 10}Z" fill="{color}"><title>{escape(m.label)}</title></path></g>')
    return out


def _legend(c: Chart) -> list[str]:
    out, x = [], LEFT
    for s in c.series:
        out.append(f'<rect x="{x}" y="{c.height - 12}" width="10" height="10" fill="{s.color}"/>'
                   f'<text x="{x + 14}" y="{c.height - 3}" class="tick">{escape(s.label)}</text>')
        x += 24 + 7 * len(s.label)
    return out


def render(c: Chart) -> Markup:
    """The chart as an accessible inline SVG element."""
    parts = [f'<svg class="chart" viewBox="0 0 {W} {c.height}" role="img" aria-label="{escape(c.title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(c.title)}</title>']
    parts += _axes(c) + _overlays(c)
    for s in c.series:
        parts += _series(c, s)
    parts += _legend(c)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped
