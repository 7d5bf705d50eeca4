"""Administration pages render for administrators only (other roles get the friendly refusal page), show what
the clinic has, and post every change to its admin API route with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders.chair_world import booking_at, chair_world
from tests.builders.clinic import ok, ready_clinic
from tests.conftest import T0, Tenant
from tests.web.test_pages import signed_in

PAGES = ("/admin/calendar", "/admin/users", "/admin/chairs")


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_open_for_administrators_and_refuse_other_roles(tenant: Tenant, path: str) -> None:
    ready_clinic(tenant)
    page = signed_in(tenant, "admin").get(path)
    assert page.status_code == 200 and 'data-api="/api/v1/' in page.text
    for role in ("technician", "psychiatrist"):
        refused = signed_in(tenant, role).get(path)
        assert refused.status_code == 403 and "You can&#39;t open this" in refused.text, role
        assert 'data-api="/api/v1/' not in refused.text


def test_admin_entry_in_the_navigation_is_for_administrators_only(tenant: Tenant) -> None:
    assert 'id="nav-admin"' in signed_in(tenant, "admin").get("/").text
    for role in ("technician", "psychiatrist"):
        assert 'id="nav-admin"' not in signed_in(tenant, role).get("/").text, role
    landing = signed_in(tenant, "admin").get("/admin", follow_redirects=False)
    assert landing.status_code == 303 and landing.headers["location"] == "/admin/calendar"


def test_calendar_page_shows_hours_closures_shifts_and_days_off_with_withdraw_forms(tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    clinic = world.clinic
    stranded = booking_at(world, world.courses[0], T0 + timedelta(days=4, hours=1))  # Friday 27th, 10:00
    closure = ok(clinic.admin.post("/api/v1/calendar/closures", json={"day": "2026-12-24", "reason": "Staff party"}),
                 201)
    off = ok(clinic.admin.post("/api/v1/calendar/days-off", json={
        "user_id": clinic.technician_id, "day": "2026-11-27", "reason": "Training course"}), 201)["day_off"]
    page = signed_in(tenant, "admin").get("/admin/calendar").text
    monday = page.split('data-weekday="0"')[1].split('data-weekday="1"')[0]
    assert "checked" in monday and 'value="08:00"' in monday and 'value="18:00"' in monday
    saturday = page.split('data-weekday="5"')[1].split('data-weekday="6"')[0]
    assert "checked" not in saturday
    row = page.split(f'data-closure="{closure["id"]}"')[1].split("</tr>")[0]
    assert "Thursday 24 December 2026" in row and "Staff party" in row
    assert f'data-api="/api/v1/calendar/closures/{closure["id"]}/withdraw"' in row and 'name="reason"' in row
    row = page.split(f'data-day-off="{off["id"]}"')[1].split("</tr>")[0]
    assert "Friday 27 November 2026" in row and "Training course" in row
    assert f'class="missing small still-held" data-booking="{stranded}"' in row and "10:00" in row  # no colleague
    assert f'data-api="/api/v1/calendar/days-off/{off["id"]}/withdraw"' in row
    assert f'data-api="/api/v1/calendar/shifts/{clinic.technician_id}"' in page
    assert 'data-api="/api/v1/calendar" data-method="PUT"' in page


def test_users_and_chairs_pages_list_what_the_clinic_has(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    admin = signed_in(tenant, "admin")
    users = admin.get("/admin/users").text
    for role, uid in tenant.users.items():
        assert f'data-user="{uid}"' in users, role
    assert f'data-api="/api/v1/users/{clinic.technician_id}" data-method="PATCH"' in users
    assert "Technician" in users and ">technician<" not in users
    chairs = admin.get("/admin/chairs").text
    row = chairs.split(f'data-chair="{clinic.chair_id}"')[1].split("</tr>")[0]
    assert "Chair A" in row and "magstim-rapid2" in row and f'href="/chairs/{clinic.chair_id}/week"' in row
    assert f'data-api="/api/v1/devices/{clinic.device_id}" data-method="PATCH"' in chairs
    assert 'data-api="/api/v1/chairs"' in chairs and 'data-api="/api/v1/devices"' in chairs


def test_admin_pages_never_show_another_clinics_staff_or_chairs(tenant: Tenant, other_tenant: Tenant) -> None:
    ready_clinic(tenant)
    other = signed_in(other_tenant, "admin")
    assert "Chair A" not in other.get("/admin/chairs").text
    assert tenant.usernames["technician"] not in other.get("/admin/users").text
