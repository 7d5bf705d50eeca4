"""Chair-side pages added for after-the-fact work: the protocol override reached from a refused dose, the
adverse-event pages, patient-mode hand-over, and a one-tap adverse event a second tap asks about."""

from __future__ import annotations

import re

from service.core.db import session_scope
from service.models.courses import Course
from tests.builders.clinic import WRITE, ok
from tests.builders.treatable import check_in, treatable
from tests.conftest import PASSWORD, Tenant
from tests.web.test_pages import signed_in


def test_a_dose_outside_the_table_links_the_psychiatrist_to_an_override_of_exactly_that_dose(tenant: Tenant) -> None:
    world = treatable(tenant)
    ts = check_in(world)
    with session_scope(tenant.app.state.engine) as s:  # a prescription from before the table tightened
        course = s.get(Course, world.course_id)
        assert course is not None
        course.intensity_pct_mt = 140
        s.add(course)
    tech_page = signed_in(tenant, "technician").get(f"/chair/bookings/{world.booking_id}").text
    assert "outside the safety table" in tech_page and "A psychiatrist may sign a protocol override" in tech_page
    psych = signed_in(tenant, "psychiatrist")
    booking_page = psych.get(f"/chair/bookings/{world.booking_id}").text
    assert f'href="/chair/sessions/{ts["id"]}/protocol-override"' in booking_page
    form = psych.get(f"/chair/sessions/{ts['id']}/protocol-override")
    assert form.status_code == 200 and 'data-api="/api/v1/protocols/overrides"' in form.text
    assert signed_in(tenant, "technician").get(f"/chair/sessions/{ts['id']}/protocol-override").status_code == 403

    # The hidden inputs carry the refused parameter set: signing exactly those clears the dose.
    parameters = {}
    for name, value, kind in re.findall(
            r'name="parameters\.(\w+)" value="([^"]*)"(?: data-type="(\w+)")?', form.text):
        parameters[name] = int(value) if kind == "int" else float(value) if kind == "number" else value
    assert parameters["intensity_pct_mt"] == 140
    ok(world.psych.post("/api/v1/protocols/overrides", headers=WRITE, json={
        "parameters": parameters, "patient_id": world.patient_id, "course_id": world.course_id,
        "reason": "responder at 140% in a previous course", "password": PASSWORD,
        "printed_name": re.findall(r'name="printed_name" required maxlength="200" value="([^"]*)"',
                                   form.text)[0]}), 201)
    after = psych.get(f"/chair/bookings/{world.booking_id}").text
    assert "outside the safety table" not in after and "% MSO" in after


def test_adverse_event_pages_offer_amendment_clearance_and_reporting_for_their_roles(tenant: Tenant) -> None:
    world = treatable(tenant)
    seizure = ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/adverse-events", headers=WRITE, json={
        "course_id": world.course_id, "term": "seizure", "grade": 3, "onset_at": "now"}), 201)
    tech, psych = signed_in(tenant, "technician"), signed_in(tenant, "psychiatrist")
    listing = tech.get(f"/patients/{world.patient_id}/adverse-events").text
    assert f'href="/adverse-events/{seizure["id"]}"' in listing and "3 · Severe or medically significant" in listing
    assert f'href="/patients/{world.patient_id}/adverse-events"' in tech.get(f"/patients/{world.patient_id}").text
    assert f'href="/adverse-events/{seizure["id"]}"' in tech.get(f"/courses/{world.course_id}").text

    page = tech.get(f"/adverse-events/{seizure['id']}").text
    assert f'data-api="/api/v1/adverse-events/{seizure["id"]}" data-method="PATCH"' in page
    assert 'name="reason" required' in page and "4 · Life-threatening" in page
    assert "clearance-form" not in page and "blocks the course until a psychiatrist clears it" in page
    task = seizure["reporting_tasks"][0]
    assert f'data-api="/api/v1/reporting-tasks/{task["id"]}/completion"' in page
    assert f'data-api="/api/v1/adverse-events/{seizure["id"]}/clearance"' in psych.get(
        f"/adverse-events/{seizure['id']}").text
    assert signed_in(tenant, "admin").get(f"/adverse-events/{seizure['id']}").status_code == 403


def test_a_second_tap_on_a_recorded_one_tap_event_asks_first(tenant: Tenant) -> None:
    world = treatable(tenant)
    tech = signed_in(tenant, "technician")
    first = tech.get(f"/chair/bookings/{world.booking_id}").text
    assert 'data-confirm="Record Headache now?"' in first
    ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/adverse-events", headers=WRITE, json={
        "course_id": world.course_id, "booking_id": world.booking_id, "term": "headache", "grade": 1,
        "onset_at": "now"}), 201)
    again = tech.get(f"/chair/bookings/{world.booking_id}").text
    assert "Headache was already recorded for this session at" in again and "(recorded " in again


def test_handing_over_signs_the_technician_out_and_a_bad_instrument_changes_nothing(tenant: Tenant) -> None:
    world = treatable(tenant)
    tech = signed_in(tenant, "technician")
    refused = tech.post(f"/chair/bookings/{world.booking_id}/self-report", data={"instrument": "HAM-D17"},
                        follow_redirects=False)
    assert refused.status_code == 422
    assert tech.get(f"/chair/bookings/{world.booking_id}", follow_redirects=False).status_code == 200
    handed = tech.post(f"/chair/bookings/{world.booking_id}/self-report", data={"instrument": "GAD-7"},
                       follow_redirects=False)
    assert handed.status_code == 303 and handed.headers["location"].startswith("/self-report?instrument=GAD-7")
    assert tech.get(f"/chair/bookings/{world.booking_id}", follow_redirects=False).status_code == 303
    patient_mode = tenant.anonymous().get(handed.headers["location"])
    assert patient_mode.status_code == 200 and "<a " not in patient_mode.text and "<nav" not in patient_mode.text
    assert patient_mode.text.count('class="sr-item"') == 7


def test_amending_through_the_pages_fields_can_make_an_event_serious(tenant: Tenant) -> None:
    world = treatable(tenant)
    event = ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/adverse-events", headers=WRITE, json={
        "course_id": world.course_id, "term": "syncope", "grade": 2, "onset_at": "now"}), 201)
    page = signed_in(tenant, "technician").get(f"/adverse-events/{event['id']}").text
    assert 'name="seriousness_criteria" value="hospitalisation" data-type="list"' in page
    amended = ok(world.tech.patch(f"/api/v1/adverse-events/{event['id']}", headers=WRITE, json={
        "seriousness_criteria": ["hospitalisation"], "reason": "admitted overnight for observation"}))
    assert amended["serious"] and amended["reporting_tasks"]
    after = signed_in(tenant, "technician").get(f"/adverse-events/{event['id']}").text
    facts = after.split('id="event"')[1].split('id="amend"')[0]
    assert "Requires or prolongs inpatient hospitalisation" in facts and 'id="reporting"' in after
