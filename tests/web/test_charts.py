"""The course charts, parsed as SVG: one scale per chart on the course's own window, baseline/response/remission
lines where the data puts them, sessions and adverse events in a visible legend, text of a readable size, and the
prescribed intensity as a line on the dose chart."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.builders.treatable import treatable, with_history
from tests.conftest import Tenant
from tests.web.test_pages import signed_in

NS = {"s": "http://www.w3.org/2000/svg"}


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg class=\"chart\".*?</svg>", html, flags=re.S)]


def _chart(html: str, title_start: str) -> ET.Element:
    found = [s for s in _svgs(html) if (s.get("aria-label") or "").startswith(title_start)]
    assert len(found) == 1, [s.get("aria-label") for s in _svgs(html)]
    return found[0]


def _one(svg: ET.Element, path: str) -> ET.Element:
    found = svg.findall(path, NS)
    assert len(found) == 1, path
    return found[0]


def _x_axis(svg: ET.Element) -> tuple[float, float, float]:
    axis = _one(svg, ".//s:line[@class='axis x-axis']")
    return float(axis.get("x1", 0)), float(axis.get("x2", 0)), float(axis.get("y1", 0))


def _legend(svg: ET.Element) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in svg.findall(".//s:g[@class='legend']/s:g[@class='legend-item']", NS):
        text = "".join(item.find("s:text", NS).itertext())  # type: ignore[union-attr]
        out.setdefault(item.get("data-kind", ""), []).append(text)
    return out


@pytest.fixture
def course(tenant: Tenant) -> tuple[Any, str]:
    world = with_history(treatable(tenant))
    return world, signed_in(tenant, "psychiatrist").get(f"/courses/{world.course_id}").text


def test_each_scale_has_its_own_chart_over_the_course_window(course: tuple[Any, str]) -> None:
    _, html = course
    phq9 = _chart(html, "PHQ-9 total")
    assert {s.get("data-label") for s in phq9.findall(".//s:polyline[@class='series']", NS)} == {"PHQ-9 total"}
    # The window runs from the first session (Nov 02, 21 days before T0) to the last booked one (T0), not a
    # fixed span: x runs 0..21 days and the first and last session marks sit on the ends of the axis.
    assert (phq9.get("data-x-min"), phq9.get("data-x-max")) == ("0", "21")
    left, right, _ = _x_axis(phq9)
    marks = phq9.findall(".//s:rect", NS)
    sessions = sorted(float(r.get("x", 0)) + 3 for r in marks if "session" in (r.get("class") or ""))
    assert sessions[0] == pytest.approx(left) and sessions[-1] == pytest.approx(right)
    ticks = [t.text for t in phq9.findall(".//s:text[@class='tick x-tick']", NS)]
    assert ticks[0] == "Nov 02" and ticks[-1] == "Nov 23"
    # The chart is full width: not in a two-column grid beside another chart.
    assert 'class="grid2"' not in html.split('id="adverse-events"')[0]


def test_baseline_response_and_remission_lines_sit_where_the_scores_put_them(course: tuple[Any, str]) -> None:
    _, html = course
    phq9 = _chart(html, "PHQ-9 total")
    _, _, zero_y = _x_axis(phq9)
    first = phq9.findall(".//s:circle[@class='point']", NS)[0]
    assert first.get("data-y") == "18"  # the baseline PHQ-9
    base_y = float(first.get("cy", 0))

    def y_of(value: float) -> float:
        return zero_y + (base_y - zero_y) * value / 18

    lines = {k: _one(phq9, f".//s:line[@class='ref ref-{k}']") for k in ("baseline", "response", "remission")}
    assert float(lines["baseline"].get("y1", 0)) == pytest.approx(y_of(18), abs=0.15)
    assert float(lines["response"].get("y1", 0)) == pytest.approx(y_of(9), abs=0.15)  # a 50% drop
    assert float(lines["remission"].get("y1", 0)) == pytest.approx(y_of(5), abs=0.15)  # PHQ-9 < 5
    labels = {k: "".join(_one(phq9, f".//s:text[@class='hlabel ref-label-{k}']").itertext())
              for k in ("baseline", "response", "remission")}
    assert labels["baseline"] == "baseline 18"
    assert labels["response"].startswith("response ≤ 9") and "50%" in labels["response"]
    assert labels["remission"] == "remission < 5"


def test_sessions_and_adverse_events_are_marked_and_named_in_a_visible_legend(course: tuple[Any, str]) -> None:
    _, html = course
    phq9 = _chart(html, "PHQ-9 total")
    legend = _legend(phq9)
    assert legend["series"] == ["PHQ-9 total"]
    assert set(legend) >= {"baseline", "response", "remission", "session-delivered", "session-booked",
                           "adverse-event"}
    assert legend["session-delivered"] == ["session delivered"] and legend["session-booked"] == ["session booked"]
    assert legend["adverse-event"] == ["AE1: Headache, grade 1 (Nov 13)"]
    assert len(phq9.findall(".//s:rect[@class='session session-delivered']", NS)) == 3
    assert len(phq9.findall(".//s:rect[@class='session session-booked']", NS)) == 1
    # The headache (11 days into the 21-day window) is flagged there, with its tag visible on the chart.
    ae = _one(phq9, ".//s:g[@class='ae-marker']")
    left, right, _ = _x_axis(phq9)
    assert float(ae.find("s:line", NS).get("x1", 0)) == pytest.approx(left + (right - left) * 11 / 21, abs=0.15)  # type: ignore[union-attr]
    assert "".join(ae.find("s:text", NS).itertext()) == "AE1"  # type: ignore[union-attr]


def test_every_label_is_at_least_12_units(course: tuple[Any, str]) -> None:
    _, html = course
    for svg in _svgs(html):
        texts = svg.findall(".//s:text", NS)
        assert texts and all(float(t.get("font-size", 0)) >= 12 for t in texts), svg.get("aria-label")


def test_dose_chart_draws_the_prescribed_intensity_as_a_line(course: tuple[Any, str]) -> None:
    _, html = course
    dose = _chart(html, "Motor threshold, prescribed and delivered")
    _, _, zero_y = _x_axis(dose)
    top = float(_one(dose, ".//s:line[@class='axis y-axis']").get("y1", 0))
    y_max = float(dose.get("data-y-max", 0))
    prescribed = [p for p in dose.findall(".//s:polyline[@class='series']", NS)
                  if (p.get("data-label") or "").startswith("prescribed")]
    assert len(prescribed) == 1 and prescribed[0].get("stroke-dasharray")
    # MT 50% MSO at 120% of MT: 60% MSO prescribed, drawn at 60 on the axis.
    first_y = float((prescribed[0].get("points") or "").split()[0].split(",")[1])
    assert first_y == pytest.approx(zero_y - 60 / y_max * (zero_y - top), abs=0.15)
    assert _legend(dose)["series"] == ["motor threshold (% MSO)", "prescribed (120% of MT)", "delivered (% MSO)"]
    # The session axis spans the course's planned sessions, not only those delivered so far.
    assert float(dose.get("data-x-max", 0)) == 36.5


def test_the_window_is_the_courses_own_not_today(tenant: Tenant) -> None:
    from datetime import timedelta

    world = with_history(treatable(tenant))
    tenant.app.state.clock.advance(timedelta(days=30))  # a month after the last session: the window stays put
    html = signed_in(tenant, "psychiatrist").get(f"/courses/{world.course_id}").text
    phq9 = _chart(html, "PHQ-9 total")
    assert (phq9.get("data-x-min"), phq9.get("data-x-max")) == ("0", "21")
    assert [t.text for t in phq9.findall(".//s:text[@class='tick x-tick']", NS)][-1] == "Nov 23"
