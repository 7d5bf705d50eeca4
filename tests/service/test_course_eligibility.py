"""Eligibility gates ordering: a course for a patient not eligible under its criteria set needs a psychiatrist's
documented exception, which the course (API and page) and the prior-authorization packet show."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from service.models.courses import Course
from tests.builders.clinic import error_field, ok, ready_clinic
from tests.builders.records import TODAY, at
from tests.conftest import Tenant
from tests.web.test_pages import signed_in

DAY = timedelta(days=1)
EXCLUSIONS = {"implant_within_30cm": False, "seizure_disorder": False, "neurological_condition": False,
              "psychosis_current": False}


def _courses(tenant: Tenant, pid: int) -> list[Course]:
    with Session(tenant.app.state.engine) as s:
        return list(s.exec(select(Course).where(Course.patient_id == pid)).all())


def _make_eligible(tenant: Tenant, pid: int) -> None:
    tech, psych = tenant.client("technician"), tenant.client("psychiatrist")
    ok(tech.post(f"/api/v1/patients/{pid}/medication-trials", json={
        "drug": "escitalopram", "daily_dose": 20, "start_date": (TODAY - 120 * DAY).isoformat(),
        "stop_date": (TODAY - 60 * DAY).isoformat(), "outcome": "no_response"}), 201)
    ok(tech.post(f"/api/v1/patients/{pid}/assessments", json={
        "instrument": "PHQ-9", "administered_at": at(days=-2), "items": [3, 3, 3, 2, 2, 2, 2, 2, 0, None]}), 201)
    ok(psych.put(f"/api/v1/patients/{pid}/eligibility-profile", json={
        "conditions": EXCLUSIONS, "psychiatrist_evaluation": True, "psychiatrist_evaluated_on": TODAY.isoformat()}))


def test_a_patient_not_eligible_is_not_ordered_without_a_documented_exception(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient()  # a new patient: 'incomplete' under every criteria set
    body = {"patient_id": pid, "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 120}
    for extra, field, words in (({"criteria_set_id": "medicare_l34522"}, "eligibility_exception", "incomplete"),
                                ({}, "eligibility_exception", "criteria_set_id"),
                                ({"criteria_set_id": "acme"}, "criteria_set_id", "unknown")):
        r = clinic.psych.post("/api/v1/courses", json=body | extra)
        assert r.status_code == 422 and error_field(r) == field, r.text
        assert words in r.json()["error"]["message"], r.text
    short = clinic.psych.post("/api/v1/courses", json=body | {"eligibility_exception": {"basis": "self_pay",
                                                                                      "reason": "ok"}})
    assert short.status_code == 422
    assert _courses(tenant, pid) == []


def test_an_exception_is_stored_and_shown_on_the_course_and_in_the_packet(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    reason = "self-pay patient after two failed SSRIs; no payer criteria apply"
    course = ok(clinic.psych.post("/api/v1/courses", json={
        "patient_id": pid, "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 120,
        "criteria_set_id": "medicare_l34522", "eligibility_exception": {"basis": "self_pay", "reason": reason}}), 201)
    assert (course["criteria_set_id"], course["eligibility_status"], course["eligibility_exception"]) == (
        "medicare_l34522", "incomplete", "self_pay")
    assert course["eligibility_exception_reason"] == reason and course["eligibility_exception_by_name"]
    assert ok(clinic.psych.get(f"/api/v1/courses/{course['id']}"))["eligibility_exception_reason"] == reason
    psych = signed_in(tenant, "psychiatrist")
    page = psych.get(f"/courses/{course['id']}")
    assert page.status_code == 200 and reason in page.text and "Ordered by exception" in page.text
    packet = psych.get(f"/courses/{course['id']}/packet")
    assert packet.status_code == 200 and reason in packet.text and "Eligibility at ordering" in packet.text


def test_an_eligible_patient_is_ordered_under_the_criteria_set_without_an_exception(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    _make_eligible(tenant, pid)
    course = ok(clinic.psych.post("/api/v1/courses", json={
        "patient_id": pid, "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 120,
        "criteria_set_id": "medicare_l34522"}), 201)
    assert course["eligibility_status"] == "eligible" and course["eligibility_exception"] is None
