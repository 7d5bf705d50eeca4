"""Courses: ordered by a psychiatrist from the catalog, phases with planned and authorized counts, status
life cycle with reasons, retreatment gate, field-named refusals, cross-clinic 404, audit rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from service.core.db import session_scope
from service.models.audit import AuditEvent
from tests.builders.clinic import EXCEPTION, error_field, ok, ready_clinic
from tests.builders.records import TODAY, new_course
from tests.conftest import T0, Tenant


def _audits(tenant: Tenant, entity: str, entity_id: int) -> list[AuditEvent]:
    with session_scope(tenant.app.state.engine) as s:
        query = select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        return list(s.exec(query.order_by(col(AuditEvent.id))).all())


def test_order_a_standard_course_with_phases(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course(phases=[{"name": "acute", "authorized_sessions": 30}])
    assert course["template_id"] == "standard-36" and course["status"] == "planned"
    assert [(p["name"], p["kind"], p["planned_sessions"], p["authorized_sessions"]) for p in course["phases"]] == [
        ("acute", "acute", 30, 30), ("taper", "taper", 6, None)]
    assert course["planned_sessions"] == 36
    assert [a.action for a in _audits(tenant, "course", course["id"])] == ["create"]


def test_only_psychiatrists_order(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    r = clinic.tech.post("/api/v1/courses", json={"patient_id": clinic.patient(), "protocol_id": "itbs_600",
                                                  "intensity_pct_mt": 120})
    assert r.status_code == 403


def test_refusals_name_the_field(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    base = {"patient_id": pid, "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 120,
            "eligibility_exception": EXCEPTION}
    cases = [
        (base | {"protocol_id": "nope"}, 422, "protocol_id"),
        (base | {"template_id": "nope"}, 422, "template_id"),
        (base | {"intensity_pct_mt": 200}, 422, "intensity_pct_mt"),
        (base | {"window_start": "12:00", "window_end": "09:00"}, 422, "body"),
        (base | {"phases": [{"name": "induction", "authorized_sessions": 3}]}, 422, "phases[0].name"),
        (base | {"template_id": "accelerated-saint"}, 422, "template_id"),  # 10/day on a 1/day protocol
        (base | {"kind": "retreatment"}, 409, "kind"),  # no prior response on record
        (base | {"unknown": 1}, 422, "unknown"),
    ]
    for body, status, field in cases:
        r = clinic.psych.post("/api/v1/courses", json=body)
        assert r.status_code == status, (body, r.text)
        assert error_field(r) == field, (body, r.text)


def test_one_open_course_per_patient(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    r = clinic.psych.post("/api/v1/courses", json={"patient_id": course["patient_id"],
                                                   "protocol_id": "itbs_600", "intensity_pct_mt": 120})
    assert r.status_code == 409 and error_field(r) == "patient_id"


def test_status_life_cycle_with_reasons(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    url = f"/api/v1/courses/{cid}/status"
    assert ok(clinic.psych.post(url, json={"status": "active", "reason": "first session given"}))["status"] == "active"
    assert ok(clinic.psych.post(url, json={"status": "on_hold", "reason": "serious AE review"}))["version"] == 3
    ok(clinic.psych.post(url, json={"status": "active", "reason": "cleared by review"}))
    done = ok(clinic.psych.post(url, json={"status": "completed", "reason": "36 sessions given"}))
    assert done["status_reason"] == "36 sessions given" and done["end_date"] is not None
    r = clinic.psych.post(url, json={"status": "active", "reason": "try again"})
    assert r.status_code == 409 and error_field(r) == "status"
    r = clinic.psych.post(url, json={"status": "active"})
    assert r.status_code == 422 and error_field(r) == "reason"
    actions = [a.action for a in _audits(tenant, "course", cid)]
    assert actions.count("status") == 4


def test_amend_with_reason(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    amended = ok(clinic.psych.patch(f"/api/v1/courses/{cid}", json={
        "reason": "MT re-determined", "intensity_pct_mt": 110, "window_start": "09:00", "window_end": "12:00",
        "phases": [{"name": "taper", "authorized_sessions": 6}]}))
    assert amended["intensity_pct_mt"] == 110 and amended["version"] == 2
    assert amended["phases"][1]["authorized_sessions"] == 6
    audit = [a for a in _audits(tenant, "course", cid) if a.action == "amend"][0]
    assert audit.reason == "MT re-determined" and audit.old_values["intensity_pct_mt"] == 120  # type: ignore[index]
    r = clinic.psych.patch(f"/api/v1/courses/{cid}", json={"reason": "nothing really", "intensity_pct_mt": 110})
    assert r.status_code == 422


def test_reads_and_lists_are_scoped_and_audited(tenant: Tenant, other_tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    got = ok(clinic.tech.get(f"/api/v1/courses/{course['id']}"))
    assert got["id"] == course["id"] and got["sessions"] == {}
    assert [c["id"] for c in ok(clinic.tech.get(f"/api/v1/courses?patient_id={course['patient_id']}"))] == \
        [course["id"]]
    assert "read" in [a.action for a in _audits(tenant, "course", course["id"])]
    other = other_tenant.client("psychiatrist")
    assert other.get(f"/api/v1/courses/{course['id']}").status_code == 404
    r = other.post(f"/api/v1/courses/{course['id']}/status", json={"status": "active", "reason": "take over"},
                   headers={"X-Requested-With": "t"})
    assert r.status_code == 404
    r = other.post("/api/v1/courses", json={"patient_id": course["patient_id"], "protocol_id": "itbs_600",
                                            "intensity_pct_mt": 120}, headers={"X-Requested-With": "t"})
    assert r.status_code == 404


def _ended_course_with_improvement(clinic: Any, tenant: Tenant, pid: int, later_items: list[int]) -> None:
    """A completed earlier course whose PHQ-9 went from 20 to the sum of ``later_items``."""
    cid = new_course(tenant, pid, status="completed", start_date=TODAY - timedelta(days=200),
                     end_date=TODAY - timedelta(days=150))
    for days, items in ((200, [3, 3, 3, 3, 3, 2, 2, 1, 0]), (151, later_items)):
        ok(clinic.tech.post(f"/api/v1/patients/{pid}/assessments", json={
            "instrument": "PHQ-9", "course_id": cid, "items": [*items, None],
            "administered_at": (T0 - timedelta(days=days)).isoformat()}), 201)


@pytest.mark.parametrize(("later", "allowed"), [([2, 2, 2, 2, 1, 1, 1, 1, 0], False),  # 20 → 12: 40%
                                                ([1, 1, 1, 1, 1, 1, 1, 1, 0], True)])  # 20 → 8: 60%
def test_retreatment_needs_a_prior_response_above_half(tenant: Tenant, later: list[int], allowed: bool) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    body = {"patient_id": pid, "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 120,
            "template_id": "retreatment-36", "kind": "retreatment", "eligibility_exception": EXCEPTION}
    assert clinic.psych.post("/api/v1/courses", json=body).status_code == 409  # no earlier course on record
    _ended_course_with_improvement(clinic, tenant, pid, later)
    r = clinic.psych.post("/api/v1/courses", json=body)
    if allowed:
        assert ok(r, 201)["phases"][0]["kind"] == "retreatment"
    else:
        assert r.status_code == 409 and "40%" in r.json()["error"]["message"]


def test_retreatment_reads_the_prior_courses_depression_scale_never_gad7(tenant: Tenant) -> None:
    """PHQ-9 20 → 8 (60%) in the earlier course; its last score is a GAD-7 that did not change: still eligible."""
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    _ended_course_with_improvement(clinic, tenant, pid, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    prior = [c for c in ok(clinic.psych.get("/api/v1/courses", params={"patient_id": pid}), 200)
             if c["status"] == "completed"][0]
    for days in (200, 150):
        ok(clinic.tech.post(f"/api/v1/patients/{pid}/assessments", json={
            "instrument": "GAD-7", "course_id": prior["id"], "items": [2, 2, 2, 2, 2, 2, 2],
            "administered_at": (T0 - timedelta(days=days, hours=-1)).isoformat()}), 201)
    body = {"patient_id": pid, "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 120,
            "template_id": "retreatment-36", "kind": "retreatment", "eligibility_exception": EXCEPTION}
    r = clinic.psych.post("/api/v1/courses", json=body)
    assert ok(r, 201)["kind"] == "retreatment"
    facts = ok(clinic.psych.get(f"/api/v1/patients/{pid}/eligibility", params={"criteria": "medicare_l34522"}),
               200)["facts"]["prior_courses"]
    assert [(p["instrument"], p["improvement_pct"]) for p in facts] == [("PHQ-9", 60.0)]
