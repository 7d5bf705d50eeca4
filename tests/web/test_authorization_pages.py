"""The payer paperwork page: an administrator, who opens no clinical page, finds every open course with its
authorizations and reaches the forms that record and amend them; the forms bring them back there."""

from __future__ import annotations

from typing import Any

from tests.builders.chair_world import chair_world
from tests.builders.clinic import ok, ready_clinic
from tests.conftest import Tenant
from tests.web.conftest import DESKTOP, Live, login, shot
from tests.web.test_pages import signed_in


def test_courses_without_an_authorization_come_first_with_the_form_that_files_one(tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    covered = world.courses[0]
    auth = world.clinic.authorization(covered, end="2027-01-31")
    bare = int(world.clinic.course(world.clinic.patient())["id"])
    admin = signed_in(tenant, "admin")
    page = admin.get("/authorizations")
    assert page.status_code == 200
    rows = page.text.split('data-course="')[1:]
    assert [int(r.split('"')[0]) for r in rows][:1] == [bare], "a course with nothing in force is listed first"
    bare_row = next(r for r in rows if r.startswith(f'{bare}"'))
    assert "none on record" in bare_row and f'href="/courses/{bare}/authorization"' in bare_row
    covered_row = next(r for r in rows if r.startswith(f'{covered}"'))
    assert auth["number"] in covered_row and f'href="/authorizations/{auth["id"]}/edit"' in covered_row
    assert 'id="nav-authorizations"' in page.text
    assert signed_in(tenant, "psychiatrist").get("/authorizations").status_code == 200
    refused = signed_in(tenant, "technician").get("/authorizations")
    assert refused.status_code == 403 and "<nav" in refused.text


def test_an_administrator_files_an_authorization_and_comes_back_to_the_list(browser: Any, live: Live,
                                                                           live_tenant: Tenant) -> None:
    clinic = ready_clinic(live_tenant)
    course = clinic.course(clinic.patient())
    admin = login(browser, live, live_tenant, "admin", DESKTOP)
    admin.click("#nav-authorizations")
    admin.click(f'tr[data-course="{course["id"]}"] a[href="/courses/{course["id"]}/authorization"]')
    admin.fill("#authorization input[name=number]", "ADM-2026-0101")
    admin.fill("#authorization input[name=end_date]", "2027-03-31")
    admin.click("#authorization button[type=submit]")
    admin.wait_for_url("**/authorizations")
    row = admin.locator(f'tr[data-course="{course["id"]}"]')
    assert "ADM-2026-0101" in row.inner_text()
    shot(admin, "admin-authorizations")
    (filed,) = ok(clinic.admin.get(f"/api/v1/authorizations?course_id={course['id']}"))
    assert (filed["number"], filed["end_date"]) == ("ADM-2026-0101", "2027-03-31")


def test_forms_an_administrator_sends_return_to_a_page_they_may_open(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course(clinic.patient())
    admin, psych = signed_in(tenant, "admin"), signed_in(tenant, "psychiatrist")
    assert 'data-then="/authorizations"' in admin.get("/patients/new").text
    assert 'data-then="/patients/{id}"' in signed_in(tenant, "technician").get("/patients/new").text
    assert 'data-then="/authorizations"' in admin.get(f"/courses/{course['id']}/authorization").text
    assert f'data-then="/courses/{course["id"]}"' in psych.get(f"/courses/{course['id']}/authorization").text
    assert admin.get("/authorizations").status_code == 200
