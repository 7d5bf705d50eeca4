"""In Chromium on a tablet: the course charts' text renders at 12 px or more, and their legend is visible text."""

from __future__ import annotations

from typing import Any

from tests.builders.treatable import treatable, with_history
from tests.conftest import Tenant
from tests.web.conftest import TABLET, Live, login, shot


def test_chart_text_renders_at_12_px_or_more_on_a_tablet(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = with_history(treatable(live_tenant))
    page = login(browser, live, live_tenant, "psychiatrist", viewport=TABLET)
    page.goto(f"/courses/{world.course_id}")
    sizes = page.eval_on_selector_all(
        "svg.chart text",
        "els => els.map(t => t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize))")
    assert len(sizes) > 20 and min(sizes) >= 12, min(sizes)
    legend = page.locator('.trajectory[data-instrument="PHQ-9"] g.legend').text_content() or ""
    assert "session delivered" in legend and "AE1: Headache" in legend and "remission < 5" in legend
    shot(page, "course-charts-tablet")
    page.context.close()
