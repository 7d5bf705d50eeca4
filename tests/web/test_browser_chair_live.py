"""In Chromium at a tablet: the chair day follows changes made elsewhere without a reload (and keeps what is typed
in its form), time left counts down every second during delivery with the coil temperature shown, a clinician
acknowledges a checklist answer that needs review, and an adverse event is amended with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from service.core.db import session_scope
from service.models.sessions import ChairStatus, TreatmentSession
from tests.builders.clinic import WRITE, ok
from tests.builders.records import CHECKLIST_OK
from tests.builders.treatable import check_in, treatable
from tests.conftest import Tenant
from tests.web.conftest import TABLET, Live, login, shot


def test_the_chair_day_updates_itself_and_keeps_what_is_typed(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto("/chairs")
    row = page.locator(f'a[href="/chair/bookings/{world.booking_id}"]')
    assert "Booked" in row.inner_text()
    page.evaluate("window.notReloaded = true")
    page.fill("input[name=date]", "2031-01-02")  # typed, not sent

    # Another device checks the patient in through the API.
    ok(world.tech.post(f"/api/v1/bookings/{world.booking_id}/check-in", headers=WRITE), 201)
    page.wait_for_selector(f'a[href="/chair/bookings/{world.booking_id}"] .pill:has-text("Checked in")',
                           timeout=15_000)
    assert page.locator(".inchair").count() == 1
    assert page.evaluate("window.notReloaded") is True
    assert page.input_value("input[name=date]") == "2031-01-02"

    # Delivery moving on (as the agent's events leave it) shows on the chair day too.
    with session_scope(live.app.state.engine) as s:
        row = s.exec(select(TreatmentSession).where(TreatmentSession.booking_id == world.booking_id)).one()
        row.status, row.pulses_planned, row.live_pulses = "delivering", 3000, 1500
        s.add(row)
    page.wait_for_selector(".inchair [data-live-percent]:has-text('50% delivered')", timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    page.context.close()


def test_time_left_moves_every_second_and_the_coil_temperature_shows(browser: Any, live: Live,
                                                                     live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    ts = check_in(world)
    with session_scope(live.app.state.engine) as s:  # mid-delivery, as the agent's events leave it
        row = s.get(TreatmentSession, ts["id"])
        assert row is not None
        row.status, row.frequency_hz, row.pulses_per_train, row.trains_planned, row.iti_s = "delivering", 10, 40, 75, 26
        row.pulses_planned, row.trains_delivered, row.pulses_delivered, row.live_pulses = 3000, 2, 80, 100
        row.current_train = 3
        s.add(row)
        s.add(ChairStatus(chair_id=row.chair_id, clinic_id=row.clinic_id, seen_at=live.app.state.clock.now(),
                          connected=True, state="delivering", coil_temp_c=31.5))
    page = login(browser, live, live_tenant, "technician", TABLET)
    # The page's timers run on Playwright's clock: paused once the figure is shown, each second is one tick.
    page.clock.install(time=live.app.state.clock.now())
    page.goto(f"/chair/bookings/{world.booking_id}")
    left = page.locator('#progress [data-field="left"]')
    page.wait_for_function("document.querySelector('#progress [data-field=left]').textContent.includes(':')")
    page.clock.pause_at(live.app.state.clock.now() + timedelta(minutes=1))
    seen = [left.inner_text()]
    for _ in range(3):
        page.clock.run_for(1000)
        seen.append(left.inner_text())
    seconds = [int(m) * 60 + int(s) for m, s in (t.split(":") for t in seen)]
    # 73 trains of 4 s with 26 s between them, and half of train 3 left: 2 s + 72 x 30 s. Real seconds may pass
    # before the clock is paused (a slow page ticks on its own), so the first figure is at most 2162.
    assert 2162 - 30 < seconds[0] <= 2162, seen
    assert [a - b for a, b in zip(seconds, seconds[1:], strict=False)] == [1, 1, 1], seen
    assert page.locator('#progress [data-field="coil"]').inner_text() == "31.5 °C"
    shot(page, "chair-time-left")
    page.context.close()


def test_a_checklist_answer_needing_review_is_acknowledged_on_the_booking_page(browser: Any, live: Live,
                                                                               live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    ts = ok(world.tech.post(f"/api/v1/bookings/{world.booking_id}/check-in", headers=WRITE), 201)
    ok(world.tech.put(f"/api/v1/sessions/{ts['id']}/checklist", headers=WRITE,
                      json={"answers": CHECKLIST_OK | {"sleep_loss": "yes"}}))
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    box = page.locator('#acknowledgements [data-item="sleep_loss"]')
    assert "Sleep deprivation lowers the seizure threshold" in box.inner_text()
    assert page.locator('#acknowledgements [data-item="caffeine"]').count() == 0
    box.locator("textarea[name=note]").fill("Slept 5 h; usual pattern for her, treat today")
    box.locator("button[type=submit]").click()
    page.wait_for_selector('#acknowledgements [data-item="sleep_loss"] .ok-text')
    assert "Slept 5 h" in page.locator('#acknowledgements [data-item="sleep_loss"]').inner_text()
    shot(page, "checklist-acknowledged")
    stored = world.tech.get(f"/api/v1/sessions/{ts['id']}").json()["checklist"]["acknowledgements"]
    assert list(stored) == ["sleep_loss"] and stored["sleep_loss"]["note"].startswith("Slept 5 h")
    page.context.close()


def test_an_adverse_event_is_amended_with_a_reason(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    event = ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/adverse-events", headers=WRITE, json={
        "course_id": world.course_id, "booking_id": world.booking_id, "term": "headache", "grade": 1,
        "onset_at": "now"}), 201)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/patients/{world.patient_id}")
    page.click(f'a[href="/patients/{world.patient_id}/adverse-events"]')
    page.click(f'a[href="/adverse-events/{event["id"]}"]')
    assert "1 · Mild" in page.locator("[data-grade]").inner_text()
    page.select_option("#amend-form select[name=grade]", "2")
    page.fill("#amend-form textarea[name=reason]", "x")  # too short: the form is not sent, nothing changes
    page.click("#amend-form button[type=submit]")
    assert page.locator("#amend-form textarea[name=reason]").evaluate("e => e.validity.tooShort")
    page.wait_for_timeout(500)
    assert world.tech.get(f"/api/v1/patients/{world.patient_id}/adverse-events").json()[0]["grade"] == 1
    page.fill("#amend-form textarea[name=reason]", "needed paracetamol after the session")
    page.click("#amend-form button[type=submit]")
    page.wait_for_function("document.querySelector('[data-grade]').textContent.startsWith('2')")
    assert "Moderate" in page.locator("[data-grade]").inner_text()
    shot(page, "adverse-event-amended")
    amended = world.tech.get(f"/api/v1/patients/{world.patient_id}/adverse-events").json()[0]
    assert (amended["grade"], amended["version"]) == (2, 2)
    page.context.close()


def test_a_second_tap_on_a_one_tap_adverse_event_asks_before_recording_another(browser: Any, live: Live,
                                                                                live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept() if len(asked) == 1 else dialog.dismiss()

    page.on("dialog", answer)
    page.click('.quick-ae button:has-text("Headache")')
    page.wait_for_selector("#ae-result.ok")
    page.click('.quick-ae button:has-text("Headache")')
    page.wait_for_timeout(300)
    assert asked[0] == "Record Headache now?"
    assert "already recorded for this session" in asked[1], asked
    events = world.tech.get(f"/api/v1/patients/{world.patient_id}/adverse-events").json()
    assert [e["term"] for e in events] == ["headache"]  # declined: no duplicate
    page.context.close()
