"""Scheduling pages render for the roles that may use them, with dates in the clinic's zone and weekday names,
and refuse other roles with a friendly page."""

from __future__ import annotations

from datetime import timedelta

from tests.builders.chair_world import booking_at, chair_world
from tests.builders.clinic import ok
from tests.conftest import T0, Tenant
from tests.web.test_pages import signed_in


def test_course_bookings_page_lists_bookings_with_day_time_and_chair(tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    cid = world.courses[0]
    bid = booking_at(world, cid, T0 + timedelta(days=1))  # Tuesday 24 November, 09:00 in New York
    for role in ("technician", "psychiatrist", "admin"):
        page = signed_in(tenant, role).get(f"/courses/{cid}/bookings")
        assert page.status_code == 200, role
        row = page.text.split(f'data-booking="{bid}"')[1].split("</tr>")[0]
        assert "Tuesday 24 November 2026" in row and "09:00" in row and "Chair magstim-rapid2" in row, row
        assert f'data-api="/api/v1/bookings/{bid}/status"' in row
        assert 'data-api="/api/v1/bookings"' in page.text
    for role in ("technician", "psychiatrist"):
        assert f'href="/courses/{cid}/bookings"' in signed_in(tenant, role).get(f"/courses/{cid}").text, role


def test_chair_week_shows_bookings_by_day_closures_and_links_to_other_weeks(tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    cid = world.courses[0]
    bid = booking_at(world, cid, T0 + timedelta(days=1, hours=1))
    ok(world.clinic.admin.post("/api/v1/calendar/closures", json={"day": "2026-11-25", "reason": "Boiler repair"}),
       201)
    for role in ("technician", "psychiatrist", "admin"):
        page = signed_in(tenant, role).get(f"/chairs/{world.chair_id}/week?start=2026-11-26")
        assert page.status_code == 200, role
        week = page.text
        assert "week of Monday 23 November 2026" in week
        tuesday = week.split('data-day="2026-11-24"')[1].split("</section>")[0]
        assert f'data-booking="{bid}"' in tuesday and "10:00" in tuesday and "Tuesday" in tuesday
        wednesday = week.split('data-day="2026-11-25"')[1].split("</section>")[0]
        assert "Closed: clinic closure on 2026-11-25: Boiler repair" in wednesday
        assert "Closed" in week.split('data-day="2026-11-26"')[1].split("</section>")[0]  # Thanksgiving
        assert f'href="/chairs/{world.chair_id}/week?start=2026-11-16"' in week
        assert f'href="/chairs/{world.chair_id}/week?start=2026-11-30"' in week
    chairs = signed_in(tenant, "technician").get("/chairs").text
    assert f'href="/chairs/{world.chair_id}/week?start=2026-11-23"' in chairs


def test_chair_week_of_another_clinic_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    assert signed_in(other_tenant, "admin").get(f"/chairs/{world.chair_id}/week").status_code == 404


def test_authorization_amendment_form_is_linked_for_paperwork_roles_only(tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    cid = world.courses[0]
    auth = world.clinic.authorization(cid)
    psych = signed_in(tenant, "psychiatrist")
    assert f'href="/authorizations/{auth["id"]}/edit"' in psych.get(f"/courses/{cid}").text
    assert f'href="/authorizations/{auth["id"]}/edit"' not in signed_in(tenant, "technician").get(
        f"/courses/{cid}").text
    for role in ("psychiatrist", "admin"):
        form = signed_in(tenant, role).get(f"/authorizations/{auth['id']}/edit")
        assert form.status_code == 200, role
        assert f'data-api="/api/v1/authorizations/{auth["id"]}"' in form.text and 'data-method="PATCH"' in form.text
        assert 'name="reason" required' in form.text and f'value="{auth["number"]}"' in form.text
    refused = signed_in(tenant, "technician").get(f"/authorizations/{auth['id']}/edit")
    assert refused.status_code == 403 and "You can&#39;t open this" in refused.text


def test_scheduling_pages_send_the_signed_out_to_sign_in_and_hide_other_clinics(tenant: Tenant,
                                                                                other_tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    cid = world.courses[0]
    auth = world.clinic.authorization(cid)
    for path in (f"/courses/{cid}/bookings", f"/chairs/{world.chair_id}/week", f"/authorizations/{auth['id']}/edit"):
        gone = tenant.anonymous().get(path, follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login?"), path
        assert signed_in(other_tenant, "admin").get(path).status_code == 404, path
