"""In Chromium: the administrator adds a technician and deactivates an account with a reason, registers a device
and puts it at a new chair, amends a device; the psychiatrist amends an authorization from the course page.
The API's own state is checked after each step."""

from __future__ import annotations

from typing import Any

from tests.builders.chair_world import chair_world
from tests.builders.clinic import ok, ready_clinic
from tests.builders.records import audit_rows
from tests.conftest import Tenant
from tests.web.conftest import DESKTOP, TABLET, Live, login, shot


def test_an_account_is_added_then_deactivated_with_a_reason(browser: Any, live: Live, live_tenant: Tenant) -> None:
    clinic = ready_clinic(live_tenant)
    admin = login(browser, live, live_tenant, "admin", TABLET)
    admin.goto("/admin/users")
    admin.fill('#add-user input[name="username"]', "tina.tech")
    admin.fill('#add-user input[name="display_name"]', "Tina Technician")
    admin.select_option('#add-user select[name="role"]', "technician")
    admin.fill('#add-user input[name="password"]', "a long first password")
    admin.click("#add-user button[type=submit]")
    admin.wait_for_selector('#users tr:has-text("Tina Technician")')
    (tina,) = [u for u in ok(clinic.admin.get("/api/v1/users")) if u["username"] == "tina.tech"]
    assert tina["role"] == "technician" and tina["active"] is True

    row = admin.locator(f'#users tr[data-user="{tina["id"]}"]')
    row.locator("summary").click()
    admin.select_option(f'#user-{tina["id"]} select[name="active"]', "false")
    admin.fill(f'#user-{tina["id"]} input[name="reason"]', "Left the clinic at the end of November")
    admin.click(f'#user-{tina["id"]} button[type=submit]')
    admin.wait_for_selector(f'#users tr[data-user="{tina["id"]}"].withdrawn')
    assert ok(clinic.admin.get(f"/api/v1/users/{tina['id']}"))["active"] is False  # kept, deactivated
    shot(admin, "admin-1-users")


def test_a_device_is_registered_and_placed_at_a_new_chair_then_amended(browser: Any, live: Live,
                                                                       live_tenant: Tenant) -> None:
    clinic = ready_clinic(live_tenant)
    admin = login(browser, live, live_tenant, "admin", DESKTOP)
    admin.goto("/admin/chairs")
    admin.select_option('#add-device select[name="model"]', "magstim-rapid2")
    admin.fill('#add-device input[name="serial"]', "RAPID-0099")
    admin.fill('#add-device input[name="coil_model"]', "D70 Alpha")
    admin.click("#add-device button[type=submit]")
    admin.wait_for_selector('#devices tr:has-text("RAPID-0099")')
    (device,) = [d for d in ok(clinic.admin.get("/api/v1/devices")) if d["serial"] == "RAPID-0099"]
    assert device["model"] == "magstim-rapid2" and device["coil_model"] == "D70 Alpha" and device["firmware"] is None

    admin.fill('#add-chair input[name="name"]', "Chair B")
    admin.select_option('#add-chair select[name="device_id"]', str(device["id"]))
    admin.click("#add-chair button[type=submit]")
    admin.wait_for_selector('#chairs tr:has-text("Chair B")')
    (chair,) = [c for c in ok(clinic.admin.get("/api/v1/chairs")) if c["name"] == "Chair B"]
    assert chair["device"]["id"] == device["id"] and chair["mode"] == "control" and chair["active"] is True

    admin.locator(f'#devices tr[data-device="{device["id"]}"] summary').click()
    admin.fill(f'#device-{device["id"]} input[name="coil_serial"]', "COIL-7")
    admin.fill(f'#device-{device["id"]} input[name="reason"]', "Coil serial read off the new coil")
    admin.click(f'#device-{device["id"]} button[type=submit]')
    admin.wait_for_selector(f'#devices tr[data-device="{device["id"]}"]:has-text("COIL-7")')
    amended = next(d for d in ok(clinic.admin.get("/api/v1/devices")) if d["id"] == device["id"])
    assert amended["coil_serial"] == "COIL-7" and amended["coil_model"] == "D70 Alpha" and amended["active"]
    shot(admin, "admin-2-chairs")


def test_an_authorization_is_amended_from_the_course_page_with_a_reason(browser: Any, live: Live,
                                                                        live_tenant: Tenant) -> None:
    world = chair_world(live_tenant, 1)
    cid = world.courses[0]
    auth = world.clinic.authorization(cid, end="2027-01-31")
    psych = login(browser, live, live_tenant, "psychiatrist", DESKTOP)
    psych.goto(f"/courses/{cid}")
    psych.click(f"#amend-authorization-{auth['id']}")
    psych.wait_for_url(f"**/authorizations/{auth['id']}/edit")
    psych.fill('#authorization-edit input[name="end_date"]', "2027-03-31")
    psych.click("#authorization-edit button[type=submit]")
    # Without a reason the form is not sent at all.
    assert psych.locator('#authorization-edit input[name="reason"]:invalid').count() == 1
    assert ok(world.clinic.admin.get(f"/api/v1/authorizations/{auth['id']}"))["end_date"] == "2027-01-31"
    psych.fill('#authorization-edit input[name="reason"]', "Payer extended the window")
    psych.click("#authorization-edit button[type=submit]")
    psych.wait_for_url(f"**/courses/{cid}")
    amended = ok(world.clinic.admin.get(f"/api/v1/authorizations/{auth['id']}"))
    assert amended["end_date"] == "2027-03-31" and amended["version"] == auth["version"] + 1
    assert amended["number"] == auth["number"] and amended["sessions"]["authorized"] == 36
    (amendment,) = [row for row in audit_rows(live_tenant, amended["patient_id"], "authorization")
                    if row.action == "amend"]
    assert set(amendment.new_values or {}) == {"end_date", "version"}
    assert amendment.reason == "Payer extended the window"
