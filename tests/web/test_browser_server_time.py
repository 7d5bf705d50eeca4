"""One-tap records take the service's clock: a tablet whose clock runs ahead of the server's still records them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.builders.treatable import treatable
from tests.conftest import T0, Tenant
from tests.web.conftest import TABLET, Live, login, shot

AHEAD = timedelta(minutes=3)


def _stored_onsets(world: Any) -> list[str]:
    events = world.tech.get(f"/api/v1/patients/{world.patient_id}/adverse-events").json()
    return [e["onset_at"] for e in events]


def test_one_tap_adverse_event_from_a_tablet_ahead_of_the_server(browser: Any, live: Live,
                                                                 live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    # The tablet's clock runs minutes ahead: a time it stamped itself would be "in the future" to the service.
    page.context.clock.set_fixed_time(live.app.state.clock.now() + AHEAD)
    page.goto(f"/chair/bookings/{world.booking_id}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click('.quick-ae button:has-text("Headache")')
    page.wait_for_selector("#ae-result.ok")
    shot(page, "adverse-event-tablet-clock-ahead")
    onsets = _stored_onsets(world)
    assert len(onsets) == 1 and onsets[0].startswith(T0.replace(tzinfo=None).isoformat()), onsets

    page.click("#ae summary")
    page.select_option('#ae form select[name="term"]', "facial_twitch")
    page.click('#ae form button[type="submit"]')
    page.wait_for_selector("#ae form .result.ok")
    assert len(_stored_onsets(world)) == 2
    page.context.close()
