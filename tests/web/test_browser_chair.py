"""In Chromium, at a tablet: the technician walks a session from check-in to completed while a real chair agent
drives the simulated stimulator (sim://), watching the progress bar move; then logs an adverse event."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Error as PlaywrightError

from tests.builders.treatable import treatable
from tests.conftest import Tenant
from tests.live import stderr_of
from tests.web.conftest import AGENT_MODEL as MODEL
from tests.web.conftest import TABLET, Live, login, shot


def _wait_connected(page: Any, rounds: int = 60) -> None:
    """Reload the chair day until the agent's heartbeat shows the device connected."""
    for _ in range(rounds):
        page.goto("/chairs")
        if page.locator(".chair .pill.ok").count():
            return
        page.wait_for_timeout(500)
    raise AssertionError("the chair agent never reported the device connected")


def _check_in_and_answer(page: Any) -> None:
    page.click("#check-in")
    page.wait_for_selector("#checklist")
    for question in page.locator("#checklist fieldset.question").all():
        name = question.locator("input").first.get_attribute("name")
        answer = "yes" if name in ("answers.hearing_protection", "answers.coil_position_confirmed") else "no"
        question.locator(f'input[value="{answer}"]').check()
    page.click("#checklist button[type=submit]")
    page.wait_for_selector("#start:not([disabled])")


WIDTH = "() => { const e = document.querySelector('#progress .bar > span'); " \
        "return e ? (parseFloat(e.style.width) || 0) : null; }"


def _watch_progress(page: Any) -> list[float]:
    """Widths of the progress bar as the stream moves it, until the page shows the ended session."""
    seen: list[float] = []
    while not page.locator("#ended").count():
        # One read of the page, not count-then-evaluate: the ended view can replace the bar between the two, and
        # a locator's evaluate would then wait 30 s for a bar that never comes back.
        try:
            width = page.evaluate(WIDTH)
        except PlaywrightError as exc:  # the page navigated (to the ended view) during the read
            if "Execution context was destroyed" not in str(exc):
                raise
            width = None
        if width is not None and (not seen or width != seen[-1]):
            seen.append(width)
            if 30 <= width <= 70 and not any(30 <= w <= 70 for w in seen[:-1]):
                shot(page, "chair-delivering")
        page.wait_for_timeout(250)
    return seen


def test_chair_flow_from_check_in_to_completed_with_live_progress(browser: Any, live: Live, live_tenant: Tenant,
                                                                   agent: Any) -> None:
    world = treatable(live_tenant, model=MODEL, protocol_id="itbs_600")
    proc = agent(live, live_tenant, world.clinic.chair_id)
    page = login(browser, live, live_tenant, "technician", TABLET)
    _wait_connected(page)
    shot(page, "chair-day-connected")
    page.click(f'a[href="/chair/bookings/{world.booking_id}"]')
    shot(page, "booking-before-check-in")
    _check_in_and_answer(page)
    assert "% MSO" in page.locator("#dose").inner_text()
    shot(page, "checklist-and-dose")
    page.click("#start")
    page.wait_for_selector("#progress")
    widths = _watch_progress(page)
    assert proc.poll() is None, stderr_of(proc)
    moving = [w for w in widths if 0 < w < 100]
    assert len(set(moving)) >= 2, f"the bar never moved through the delivery: {widths}"
    ended = page.locator("#ended").inner_text()
    assert "Session completed" in ended and "600 of 600 pulses" in ended, ended
    shot(page, "session-completed")

    page.on("dialog", lambda dialog: dialog.accept())
    page.click('.quick-ae button:has-text("Headache")')
    page.wait_for_selector("#ae-result.ok")
    assert "Recorded: Headache" in page.locator("#ae-result").inner_text()
    shot(page, "adverse-event-logged")
    events = world.tech.get(f"/api/v1/patients/{world.patient_id}/adverse-events").json()
    assert [(e["term"], e["grade"], e["booking_id"]) for e in events] == [("headache", 1, world.booking_id)]
    page.context.close()

    psych = login(browser, live, live_tenant, "psychiatrist")
    psych.goto(f"/courses/{world.course_id}")
    first = psych.locator("#sessions tr").nth(1).inner_text()
    assert "Completed" in first and "600/600" in first and "90867" in first, first
    assert "Headache" in psych.locator("table").first.inner_text()
    shot(psych, "course-after-session")
    psych.context.close()


def test_stop_button_interrupts_delivery(browser: Any, live: Live, live_tenant: Tenant, agent: Any) -> None:
    world = treatable(live_tenant, model=MODEL, protocol_id="itbs_600")
    agent(live, live_tenant, world.clinic.chair_id)
    page = login(browser, live, live_tenant, "technician", TABLET)
    _wait_connected(page)
    page.goto(f"/chair/bookings/{world.booking_id}")
    _check_in_and_answer(page)
    page.click("#start")
    page.wait_for_selector("#progress")
    deadline = time.monotonic() + 60
    while page.locator('#progress [data-field="status"]').inner_text().startswith("Programming"):
        assert time.monotonic() < deadline, "delivery never started"
        page.wait_for_timeout(200)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#stop")
    page.wait_for_selector("#ended", timeout=60_000)
    assert "Session interrupted" in page.locator("#ended").inner_text()
    assert page.locator("#ended button", has_text="Resume").count() == 1
    shot(page, "session-interrupted")
    page.context.close()
