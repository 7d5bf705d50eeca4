"""In Chromium: the front desk books one session at a clinic time and finds it in the chair's week, cancels one
with a reason, re-plans a missed one; the administrator closes the clinic for a day and withdraws the closure,
and records a technician's day off. The API's own state is checked after each step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.builders.chair_world import ChairWorld, booking_at, chair_world
from tests.builders.clinic import add_technician, ok
from tests.conftest import T0, Tenant
from tests.web.conftest import TABLET, Live, login, shot


def _bookings(world: ChairWorld, course_id: int) -> list[dict[str, Any]]:
    return list(ok(world.clinic.tech.get(f"/api/v1/bookings?course_id={course_id}")))


def _row(page: Any, booking_id: int) -> Any:
    return page.locator(f'#course-bookings tr[data-booking="{booking_id}"]')


def test_a_single_session_is_booked_at_clinic_time_and_shows_in_the_chair_week(browser: Any, live: Live,
                                                                               live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    cid = world.courses[0]
    # The time typed is the clinic's (New York), whatever zone the tablet itself is set to.
    tech = login(browser, live, live_tenant, "technician", TABLET, timezone_id="Asia/Tokyo")
    tech.goto(f"/courses/{cid}/bookings")
    tech.fill("#book input[data-local-date]", "2026-11-24")
    tech.fill("#book input[data-local-time]", "10:30")
    tech.select_option('#book select[name="chair_id"]', str(world.chair_id))
    assert "Tuesday 24 November 2026 at 10:30" in tech.locator("#book [data-when]").inner_text()
    shot(tech, "schedule-1-book-one")
    tech.click("#book button[type=submit]")
    tech.wait_for_selector("#course-bookings tr[data-booking]")

    (booked,) = _bookings(world, cid)
    assert booked["start_at"].startswith("2026-11-24T15:30:00")  # 10:30 in New York is 15:30 UTC
    assert booked["chair_id"] == world.chair_id and booked["status"] == "booked" and booked["sequence"] == 1
    row = _row(tech, booked["id"]).inner_text()
    assert "Tuesday 24 November 2026" in row and "10:30" in row

    tech.click(f'#course-bookings tr[data-booking="{booked["id"]}"] a[href^="/chairs/{world.chair_id}/week"]')
    tech.wait_for_url(f"**/chairs/{world.chair_id}/week?start=2026-11-24")
    tuesday = tech.locator('#week section[data-day="2026-11-24"]')
    assert tuesday.locator(f'li[data-booking="{booked["id"]}"]').count() == 1
    assert "10:30" in tuesday.inner_text() and "Tuesday" in tuesday.inner_text()
    shot(tech, "schedule-2-chair-week")
    tech.click("#next-week")
    tech.wait_for_url(f"**/chairs/{world.chair_id}/week?start=2026-11-30")
    assert tech.locator("#week li[data-booking]").count() == 0


def test_a_booking_in_the_past_is_refused_next_to_the_time_and_nothing_is_booked(browser: Any, live: Live,
                                                                                 live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    cid = world.courses[0]
    tech = login(browser, live, live_tenant, "technician", TABLET)
    tech.goto(f"/courses/{cid}/bookings")
    tech.fill("#book input[data-local-date]", "2026-11-23")
    tech.fill("#book input[data-local-time]", "08:00")  # an hour before the frozen now (09:00 in New York)
    tech.click("#book button[type=submit]")
    tech.wait_for_selector("#book .field-error")
    assert "past" in tech.locator("#book .result").inner_text().lower() + tech.locator(
        "#book .field-error").inner_text().lower()
    assert _bookings(world, cid) == []


def test_a_session_is_cancelled_with_its_reason(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    cid = world.courses[0]
    bid = booking_at(world, cid, T0 + timedelta(days=1))
    tech = login(browser, live, live_tenant, "technician", TABLET)
    tech.goto(f"/courses/{cid}/bookings")
    _row(tech, bid).locator("summary", has_text="Cancel").click()
    tech.fill(f'#cancel-{bid} input[name="reason"]', "Patient has a family emergency")
    shot(tech, "schedule-3-cancel")
    tech.click(f"#cancel-{bid} button[type=submit]")
    tech.wait_for_selector(f'#course-bookings tr[data-booking="{bid}"].status-cancelled')

    (cancelled,) = _bookings(world, cid)
    assert cancelled["status"] == "cancelled" and cancelled["status_reason"] == "Patient has a family emergency"
    assert "Patient has a family emergency" in _row(tech, bid).inner_text()
    assert _row(tech, bid).locator(f"#cancel-{bid}").count() == 0  # nothing more to do with it


def test_a_missed_session_is_re_planned_after_a_preview(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    cid = world.courses[0]
    ok(world.clinic.tech.post(f"/api/v1/courses/{cid}/plan", json={"start_date": "2026-11-24"}))
    first = min(_bookings(world, cid), key=lambda b: b["sequence"])
    tech = login(browser, live, live_tenant, "technician", TABLET)
    tech.goto(f"/courses/{cid}/bookings")
    _row(tech, first["id"]).locator("summary", has_text="Mark missed").click()
    tech.fill(f'#missed-{first["id"]} input[name="reason"]', "Did not come, no answer on the phone")
    tech.click(f'#missed-{first["id"]} button[type=submit]')
    tech.wait_for_selector(f'#course-bookings tr[data-booking="{first["id"]}"].status-no_show')
    before = {b["id"]: b for b in _bookings(world, cid)}
    assert before[first["id"]]["status"] == "no_show"

    tech.click("#replan-preview button[type=submit]")
    tech.wait_for_selector("#replan-result li")
    assert f"Session {first['sequence']}:" in tech.locator("#replan-result").inner_text()
    assert {b["id"]: b["status"] for b in _bookings(world, cid)} == {i: b["status"] for i, b in before.items()}
    shot(tech, "schedule-4-replan-preview")

    tech.click("#replan button[type=submit]")
    tech.wait_for_load_state()
    tech.wait_for_function(f"""() => document.querySelectorAll(
        '#course-bookings tr[data-booking]').length > {len(before)}""")
    after = _bookings(world, cid)
    again = [b for b in after if b["sequence"] == first["sequence"] and b["status"] == "booked"]
    assert len(again) == 1 and again[0]["start_at"] > first["start_at"]
    assert next(b for b in after if b["id"] == first["id"])["status"] == "no_show"  # the missed one stays on record
    assert tech.locator("#replan-card").count() == 0  # nothing is left waiting for a re-plan


def test_a_closure_is_added_and_withdrawn_with_a_reason(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    admin = login(browser, live, live_tenant, "admin", TABLET)
    admin.click("#nav-admin")
    admin.wait_for_url("**/admin/calendar")
    admin.fill('#add-closure input[name="day"]', "2026-12-24")
    admin.fill('#add-closure input[name="reason"]', "Staff training day")
    admin.click("#add-closure button[type=submit]")
    admin.wait_for_selector("#closures tr[data-closure]")
    (closure,) = ok(world.clinic.admin.get("/api/v1/calendar/closures"))
    assert closure["day"] == "2026-12-24" and closure["reason"] == "Staff training day"
    assert closure["withdrawn_at"] is None
    day = ok(world.clinic.admin.get("/api/v1/calendar/days?from=2026-12-24&to=2026-12-24"))[0]
    assert day["open"] is False
    row = admin.locator(f'#closures tr[data-closure="{closure["id"]}"]')
    assert "Thursday 24 December 2026" in row.inner_text()
    shot(admin, "schedule-5-closure")

    row.locator("summary", has_text="Withdraw").click()
    admin.fill(f'#withdraw-closure-{closure["id"]} input[name="reason"]', "Training moved to January")
    admin.click(f'#withdraw-closure-{closure["id"]} button[type=submit]')
    admin.wait_for_selector(f'#closures tr[data-closure="{closure["id"]}"].withdrawn')
    (withdrawn,) = ok(world.clinic.admin.get("/api/v1/calendar/closures"))
    assert withdrawn["id"] == closure["id"] and withdrawn["withdrawn_at"] is not None  # kept, marked withdrawn
    day = ok(world.clinic.admin.get("/api/v1/calendar/days?from=2026-12-24&to=2026-12-24"))[0]
    assert day["open"] is True


def test_a_day_off_hands_the_technicians_bookings_to_a_colleague(browser: Any, live: Live,
                                                                 live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    colleague = add_technician(world.clinic)
    bid = booking_at(world, world.courses[0], T0 + timedelta(days=2))  # Wednesday 25 November, 09:00
    admin = login(browser, live, live_tenant, "admin", TABLET)
    admin.goto("/admin/calendar")
    admin.select_option('#add-day-off select[name="user_id"]', str(world.clinic.technician_id))
    admin.fill('#add-day-off input[name="day"]', "2026-11-25")
    admin.fill('#add-day-off input[name="reason"]', "Annual leave")
    admin.click("#add-day-off button[type=submit]")
    admin.wait_for_selector("#days-off tr[data-day-off]")
    (off,) = ok(world.clinic.admin.get("/api/v1/calendar/days-off"))
    assert off["user_id"] == world.clinic.technician_id and off["day"] == "2026-11-25"
    assert off["reason"] == "Annual leave" and off["withdrawn_at"] is None
    assert "Wednesday 25 November 2026" in admin.locator(f'#days-off tr[data-day-off="{off["id"]}"]').inner_text()
    moved = ok(world.clinic.tech.get(f"/api/v1/bookings/{bid}"))
    assert moved["technician_id"] == colleague and moved["status"] == "booked"
    assert admin.locator(f'#days-off tr[data-day-off="{off["id"]}"] .still-held').count() == 0
    shot(admin, "schedule-6-day-off")


def test_opening_hours_and_a_technicians_shifts_are_replaced_from_ticked_weekdays(browser: Any, live: Live,
                                                                                  live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    tech_id = world.clinic.technician_id
    admin = login(browser, live, live_tenant, "admin", TABLET)
    admin.goto("/admin/calendar")
    saturday = admin.locator('#hours [data-row][data-weekday="5"]')
    saturday.locator("input[data-row-on]").check()
    saturday.locator('input[data-field="open"]').fill("09:00")
    saturday.locator('input[data-field="close"]').fill("13:00")
    admin.fill('#hours input[name="reason"]', "Saturday mornings from December")
    with admin.expect_navigation():  # the page reloads once the API has saved
        admin.click("#hours button[type=submit]")
    assert admin.locator('#hours [data-weekday="5"] input[data-row-on]').is_checked()
    hours = {h["weekday"]: (h["open"], h["close"]) for h in ok(world.clinic.admin.get("/api/v1/calendar"))["hours"]}
    assert hours == {**{d: ("08:00:00", "18:00:00") for d in range(5)}, 5: ("09:00:00", "13:00:00")}

    admin.locator(f'details[data-technician="{tech_id}"] summary').click()
    form = admin.locator(f"#shifts-{tech_id}")
    form.locator("[data-row]", has_text="Friday").locator("input[data-row-on]").uncheck()
    form.locator('input[name="reason"]').fill("Fridays off from December")
    form.locator("button[type=submit]").click()
    admin.wait_for_selector(f'details[data-technician="{tech_id}"] summary:not(:has-text("Fri"))')
    (shifts,) = [t for t in ok(world.clinic.admin.get("/api/v1/calendar/shifts")) if t["user_id"] == tech_id]
    assert sorted(s["weekday"] for s in shifts["shifts"]) == [0, 1, 2, 3]
