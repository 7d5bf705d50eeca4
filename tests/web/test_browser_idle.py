"""Sign-out that respects work: input and a live delivery keep the session, the live page keeps its Stop, and a
form being filled survives a forced sign-in. Time moves on both sides: the service's frozen clock and the page's
clock (Playwright), so nothing waits for real minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from service.core.db import session_scope
from service.models.adverse_events import AdverseEvent
from tests.builders.clinic import WRITE, ok
from tests.builders.treatable import World, check_in, treatable
from tests.conftest import PASSWORD, Tenant
from tests.web.conftest import TABLET, Live, login, shot

NOTE = "Tingling over the left temple during trains 20 to 30; settled after the session."


def _advance(page: Any, live: Live, minutes: float) -> None:
    """Move the service's clock and the page's clock forward together."""
    live.app.state.clock.advance(timedelta(minutes=minutes))
    page.context.clock.set_fixed_time(live.app.state.clock.now())


def _keep_alive(response: Any) -> bool:
    return response.url.endswith("/api/v1/auth/keep-alive")


def _delivering(world: World) -> int:
    session = check_in(world)
    ok(world.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    return int(session["id"])


def test_input_keeps_the_session_past_the_idle_limit(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    _advance(page, live, 10)
    with page.expect_response(_keep_alive) as answer:
        page.click("#ae summary")
    assert answer.value.status == 204
    _advance(page, live, 10)  # 20 min after sign-in, 10 after the last input (the limit is 15)
    page.reload()
    assert page.url.endswith(f"/chair/bookings/{world.booking_id}"), page.url
    assert page.locator("#check-in").is_visible()
    page.context.close()


def test_a_live_delivery_keeps_the_session_and_its_stop_button(browser: Any, live: Live,
                                                             live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    _delivering(world)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    assert page.locator("#stop").is_visible()
    for _ in range(8):  # 40 minutes without a touch: the delivery on the page is the activity
        with page.expect_response(_keep_alive) as answer:
            _advance(page, live, 5)
        assert answer.value.status == 204
    page.reload()
    assert page.url.endswith(f"/chair/bookings/{world.booking_id}") and page.locator("#stop").is_visible()
    shot(page, "idle-live-delivery-kept")
    page.context.close()


def test_the_live_page_keeps_stop_even_when_the_sign_in_has_ended(browser: Any, live: Live,
                                                                   live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    _delivering(world)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    with page.expect_response(_keep_alive) as answer:
        _advance(page, live, 20)  # e.g. the tablet slept: the service has already signed the session out
    assert answer.value.status == 401
    page.wait_for_selector("#session-lost", state="visible")
    assert page.url.endswith(f"/chair/bookings/{world.booking_id}") and page.locator("#stop").is_visible()
    shot(page, "idle-live-delivery-signed-out")
    page.context.close()


def test_an_unsent_form_survives_a_forced_sign_in(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    page.click("#ae summary")
    page.select_option('#ae form select[name="term"]', "application_site_pain")
    page.fill('#ae form textarea[name="description"]', NOTE)
    _advance(page, live, 16)
    page.wait_for_url("**/login?**")
    assert "signed out after a period of inactivity" in page.inner_text("main")
    shot(page, "idle-signed-out")
    page.fill("input[name=username]", live_tenant.usernames["technician"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/chair/bookings/{world.booking_id}")
    assert page.input_value('#ae form textarea[name="description"]') == NOTE
    assert page.input_value('#ae form select[name="term"]') == "application_site_pain"
    assert "Restored" in page.inner_text("#flash")
    shot(page, "idle-form-restored")
    page.click('#ae form button[type="submit"]')
    page.wait_for_selector("#ae form .result.ok")
    with session_scope(live.app.state.engine) as s:  # the test's API token idled out with the clock
        events = s.exec(select(AdverseEvent).where(AdverseEvent.patient_id == world.patient_id)).all()
        assert [(e.term, e.description) for e in events] == [("application_site_pain", NOTE)]
    page.context.close()
