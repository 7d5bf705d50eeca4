"""Server-rendered pages: each role sees its pages, never another clinic's data; pages act through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, Tenant
from tests.web.world import check_in, treatable


def signed_in(tenant: Tenant, role: str) -> TestClient:
    client = tenant.anonymous()
    r = client.post("/login", data={"username": tenant.usernames[role], "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_chair_day_shows_each_chair_with_its_bookings(tenant: Tenant) -> None:
    world = treatable(tenant)
    page = signed_in(tenant, "technician").get("/chairs")
    assert page.status_code == 200
    assert "Chair A" in page.text and f"/chair/bookings/{world.booking_id}" in page.text
    assert "session 1 of 36" in page.text and "no agent heartbeat yet" in page.text


def test_booking_page_walks_check_in_checklist_and_dose(tenant: Tenant) -> None:
    world = treatable(tenant)
    tech = signed_in(tenant, "technician")
    before = tech.get(f"/chair/bookings/{world.booking_id}")
    assert 'id="check-in"' in before.text and f"/api/v1/bookings/{world.booking_id}/check-in" in before.text
    check_in(world)
    after = tech.get(f"/chair/bookings/{world.booking_id}")
    assert "Pre-session checklist" in after.text and "60% MSO" in after.text and "CPT 90867" in after.text
    assert "Nothing blocks this session." in after.text


def test_blocking_reasons_are_shown_in_words(tenant: Tenant) -> None:
    world = treatable(tenant)
    session = check_in(world)
    # hearing protection missing blocks the start
    r = world.tech.put(f"/api/v1/sessions/{session['id']}/checklist", headers={"X-Requested-With": "t"}, json={
        "answers": {"hearing_protection": "no", "sleep_loss": "no", "alcohol_or_drugs": "no", "caffeine": "no",
                    "medication_change": "no", "new_symptoms": "no"}})
    assert r.status_code == 200, r.text
    page = signed_in(tenant, "technician").get(f"/chair/bookings/{world.booking_id}")
    assert "Start is blocked" in page.text and "hearing" in page.text.lower()
    assert 'id="start"' in page.text and "disabled" in page.text.split('id="start"')[1].split(">")[0]


def test_pages_never_show_another_clinics_booking(tenant: Tenant, other_tenant: Tenant) -> None:
    world = treatable(tenant)
    other = signed_in(other_tenant, "technician")
    assert other.get(f"/chair/bookings/{world.booking_id}").status_code == 404
    chairs = other.get("/chairs")
    assert chairs.status_code == 200 and "Jane" not in chairs.text and "Chair A" not in chairs.text


def test_pages_need_a_session_and_the_right_role(tenant: Tenant) -> None:
    world = treatable(tenant)
    anon = tenant.anonymous().get("/chairs", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
    admin = signed_in(tenant, "admin")
    assert admin.get("/chairs").status_code == 200
    assert admin.get(f"/chair/bookings/{world.booking_id}").status_code == 403
