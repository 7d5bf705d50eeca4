"""A dose outside the safety table cannot reach the device by any route: order, amend, override, start, resume,
record mode. Each test tries one route through the API and looks at what was queued for the chair agent (the
only way a program reaches a stimulator) and at what the agent's own poll hands out.
"""

from __future__ import annotations

from datetime import timedelta

from service.core.clock import FrozenClock
from service.models.courses import Course
from tests.agent.flow import check_in_and_ready, treatable_booking
from tests.builders.clinic import EXCEPTION, WRITE, ok, ready_clinic
from tests.builders.records import count
from tests.conftest import Tenant
from tests.service.dose_helpers import (
    agent_takes,
    deliver_commands,
    error,
    hf10_at,
    report_interrupted,
    sign,
    store_course_intensity,
)
from tests.web.test_pages import signed_in


def test_order_route(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid, other = clinic.patient(payer=None), clinic.patient(payer=None)
    body = {"patient_id": pid, "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 140,
            "eligibility_exception": EXCEPTION}
    assert error(clinic.psych.post("/api/v1/courses", json=body))["code"] == "dose_outside_table"
    others = ok(sign(tenant, hf10_at(140), patient_id=other), 201)
    wrong_set = ok(sign(tenant, hf10_at(140, iti_s=30), patient_id=pid), 201)
    for override in (others, wrong_set):
        refused = clinic.psych.post("/api/v1/courses", json=body | {"override_id": override["id"]})
        assert error(refused, 422)["details"][0]["field"] == "override_id"
    assert count(tenant, Course) == 0
    signed = ok(sign(tenant, hf10_at(140), patient_id=pid), 201)
    course = ok(clinic.psych.post("/api/v1/courses", json=body | {"override_id": signed["id"]}), 201)
    assert course["dose_check"]["override"]["id"] == signed["id"] and course["dose_override_id"] == signed["id"]
    again = clinic.psych.post("/api/v1/courses", json=body | {"patient_id": pid, "override_id": signed["id"]})
    assert again.status_code in (409, 422)  # an open course exists, and the override is used
    assert deliver_commands(tenant) == []


def test_amend_route(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    psych = tenant.client("psychiatrist")
    before = ok(psych.get(f"/api/v1/courses/{t.course_id}"))
    refused = psych.patch(f"/api/v1/courses/{t.course_id}", headers=WRITE,
                          json={"reason": "no response at 120%", "intensity_pct_mt": 140})
    assert error(refused)["code"] == "dose_outside_table"
    course = ok(psych.get(f"/api/v1/courses/{t.course_id}"))
    assert (course["intensity_pct_mt"], course["version"]) == (120, before["version"])
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert [c["payload"]["protocol"]["intensity_percent"] for c in agent_takes(t)] == [60]  # 120% of MT 50


def test_override_route(tenant: Tenant) -> None:
    """Only a signed override for this course and exactly this parameter set lets the dose through; it then
    shows on the course, in the review queue and in the session record; the device's maximum stays."""
    t = treatable_booking(tenant)
    psych = tenant.client("psychiatrist")
    amend = {"reason": "no response at 120%", "intensity_pct_mt": 130}
    ok(sign(tenant, hf10_at(130, iti_s=27), patient_id=t.patient_id, course_id=t.course_id), 201)  # not this set
    ok(sign(tenant, hf10_at(130), patient_id=t.patient_id), 201)  # the patient's, not bound to the course
    assert error(psych.patch(f"/api/v1/courses/{t.course_id}", headers=WRITE, json=amend))["code"] == \
        "dose_outside_table"
    signed = ok(sign(tenant, hf10_at(130), patient_id=t.patient_id, course_id=t.course_id), 201)
    course = ok(psych.patch(f"/api/v1/courses/{t.course_id}", headers=WRITE, json=amend))
    shown = course["dose_check"]
    assert shown["within_table"] is False and shown["override"]["id"] == signed["id"]
    assert shown["override"]["printed_name"] == signed["printed_name"]
    flags = ok(psych.get("/api/v1/review-flags", params={"kind": "dose_override"}))
    assert [f["course_id"] for f in flags] == [t.course_id] and str(signed["id"]) in flags[0]["message"]
    page = signed_in(tenant, "psychiatrist").get(f"/courses/{t.course_id}").text
    assert f"override {signed['id']} approved by {signed['printed_name']}" in page and "2.9 s" in page
    session = check_in_and_ready(t)
    started = ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert (started["output_pct_mso"], started["dose_override_id"]) == (65, signed["id"])
    assert started["dose_override"]["printed_name"] == signed["printed_name"]
    assert [c["payload"]["protocol"]["intensity_percent"] for c in agent_takes(t)] == [65]


def test_an_override_cannot_lift_the_devices_maximum(tenant: Tenant) -> None:
    t = treatable_booking(tenant, mt_pct_mso=80)  # 130% of 80 = 104% of machine output
    ok(sign(tenant, hf10_at(130), patient_id=t.patient_id, course_id=t.course_id), 201)
    ok(tenant.client("psychiatrist").patch(f"/api/v1/courses/{t.course_id}", headers=WRITE,
                                           json={"reason": "no response at 120%", "intensity_pct_mt": 130}))
    session = check_in_and_ready(t)
    refused = error(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert refused["code"] == "dose_refused" and "maximum of 100%" in refused["message"]
    assert agent_takes(t) == []


def test_start_route(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    store_course_intensity(tenant, t.course_id, 140)
    session = check_in_and_ready(t)
    pre = ok(t.tech.get(f"/api/v1/sessions/{session['id']}/preflight"))
    assert pre["dose"] is None and pre["dose_error"]["code"] == "dose_outside_table"
    refused = error(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert refused["code"] == "dose_outside_table" and "130% MT" in refused["message"]
    assert agent_takes(t) == [] and deliver_commands(tenant) == []
    assert ok(t.tech.get(f"/api/v1/sessions/{session['id']}"))["status"] == "ready_to_start"


def test_resume_route(tenant: Tenant, clock: FrozenClock) -> None:
    """Interrupted at 60% of machine output (120% of MT 50); the MT re-determined on the unit is 45, so the
    rest at 60% would be 133% of MT, above the table: the rest is not sent."""
    t = treatable_booking(tenant)
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert len(agent_takes(t)) == 1
    report_interrupted(t, session["id"], f"dev-{t.device_id}", trains=3)
    clock.advance(timedelta(minutes=10))  # the psychiatrist re-determines the MT on the unit after the stop
    ok(t.tech.post(f"/api/v1/patients/{t.patient_id}/motor-thresholds", headers=WRITE, json={
        "determined_at": (clock.now() - timedelta(minutes=2)).isoformat(), "method": "emg_relative_frequency",
        "muscle": "APB", "value_pct_mso": 45, "device_id": t.device_id}), 201)
    refused = error(t.tech.post(f"/api/v1/sessions/{session['id']}/resume", headers=WRITE))
    assert refused["code"] == "dose_changed" and "133% of MT" in refused["message"]
    assert agent_takes(t) == [] and len(deliver_commands(tenant, session["id"])) == 1
    assert ok(t.tech.get(f"/api/v1/sessions/{session['id']}"))["status"] == "interrupted"


def test_record_mode_route(tenant: Tenant) -> None:
    """A record-mode chair: the technician starts at the device's console, but the program it runs is still the
    one the service queues, and it is never queued outside the table."""
    t = treatable_booking(tenant, mode="record")
    store_course_intensity(tenant, t.course_id, 135)
    session = check_in_and_ready(t)
    refused = error(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert refused["code"] == "dose_outside_table"
    assert agent_takes(t) == [] and deliver_commands(tenant) == []
    store_course_intensity(tenant, t.course_id, 120)
    started = ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert started["mode"] == "record"
    assert [(c["payload"]["mode"], c["payload"]["protocol"]["intensity_percent"]) for c in agent_takes(t)] == [
        ("record", 60)]
