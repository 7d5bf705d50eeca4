"""The README's first-time walk-through, in Chromium at a tablet: the seeded demo clinic, the technician treats
the demo patient on Chair 2 while a real chair agent drives the simulated stimulator, logs an adverse event,
and the psychiatrist finds the session on the course page. Only pages; no API call stands in for a step."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.core.db import session_scope
from service.seed import DEMO_AGENT, seed_demo
from tests.web.conftest import DESKTOP, TABLET, Live, shot, submit_sign_in

SPEED = 10  # the simulated device's clock ×10: iTBS 600 (about 3 min) delivers in about 20 s


@pytest.fixture
def demo(live: Live, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The demo clinic seeded at the frozen clock, with the chair agent of Chair 2 running."""
    with session_scope(live.app.state.engine) as session:
        passwords = seed_demo(session, live.app.state.passwords, live.app.state.clock.now()).created_passwords
        from service.demo import demo_chairs

    chair_id, model = next((c, m) for c, m in demo_chairs(live.app.state.settings.database_url)
                           if m == "magventure-x100")
    secret = tmp_path / "agent.secret"
    secret.write_text(passwords[DEMO_AGENT])
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "agent", "--chair", str(chair_id), "--device", f"sim://{model}",
         "--model", model, "--service", live.base, "--username", DEMO_AGENT, "--password-file", str(secret),
         "--outbox", str(tmp_path / "outbox.db"), "--speed", str(SPEED)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield passwords
    proc.kill()
    proc.wait(timeout=10)


def _sign_in(browser: Any, live: Live, username: str, password: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, base_url=live.base)
    context.clock.set_fixed_time(live.app.state.clock.now())
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    submit_sign_in(page, live)
    page.wait_for_url("**/")
    return page


def _chair_connected(page: Any, name: str) -> Any:
    for _ in range(120):
        page.goto("/chairs")
        chair = page.locator(".chair", has_text=name)
        if chair.locator(".pill.ok").count():
            return chair
        page.wait_for_timeout(500)
    raise AssertionError(f"{name}'s agent never reported its device connected")


# Safe answers: hearing protection on and the coil position confirmed; everything else "no".
YES = {"answers.hearing_protection", "answers.coil_position_confirmed"}


def test_a_first_time_user_treats_the_demo_patient(browser: Any, live: Live, demo: dict[str, str]) -> None:
    tech = _sign_in(browser, live, "tech", demo["tech"], TABLET)
    shot(tech, "demo-1-home")
    chair = _chair_connected(tech, "Chair 2")
    assert "Sam Sample" in chair.inner_text()
    shot(tech, "demo-2-chair-day")
    chair.locator("a[href^='/chair/bookings/']", has_text="Sam").click()
    assert "Nothing blocks treatment today" in tech.locator("main").inner_text()
    shot(tech, "demo-3-booking")
    tech.click("#check-in")
    tech.wait_for_selector("#checklist")
    for question in tech.locator("#checklist fieldset.question").all():
        name = question.locator("input").first.get_attribute("name")
        question.locator(f'input[value="{"yes" if name in YES else "no"}"]').check()
    tech.click("#checklist button[type=submit]")
    tech.wait_for_selector("#start:not([disabled])")
    dose = tech.locator("dl.dose").inner_text()
    assert "% MSO" in tech.locator("#dose").inner_text() and "of MT 48.0% MSO" in dose, dose
    shot(tech, "demo-4-checklist-and-dose")
    tech.click("#start")
    tech.wait_for_selector("#progress")
    shot(tech, "demo-5-delivering")
    tech.wait_for_selector("#ended", timeout=120_000)
    assert "Session completed" in tech.locator("#ended").inner_text()
    shot(tech, "demo-6-completed")
    tech.on("dialog", lambda dialog: dialog.accept())
    tech.click('.quick-ae button:has-text("Headache")')
    tech.wait_for_selector("#ae-result.ok")
    shot(tech, "demo-7-adverse-event")
    tech.context.close()

    psych = _sign_in(browser, live, "drpsych", demo["drpsych"], DESKTOP)
    psych.click("header nav a[href='/patients']")
    psych.click("a:has-text('Sample')")
    psych.locator("a[href^='/courses/']").first.click()
    sessions = psych.locator("#sessions").inner_text()
    assert "Completed" in sessions and "600/600" in sessions, sessions
    assert "Headache" in psych.locator("#adverse-events").inner_text()
    shot(psych, "demo-8-course")
    psych.goto("/patients")
    assert "Newman" in psych.locator("main").inner_text()  # the new referral waits for intake
    psych.context.close()
