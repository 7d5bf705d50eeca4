"""Eligibility from stored records: every criterion with evidence and what is missing; the profile is amended."""

from __future__ import annotations

from datetime import timedelta

from service.models.eligibility import EligibilityProfile
from tests.builders.records import TODAY, at, audit_rows, count, field_of, new_patient
from tests.conftest import Tenant

DAY = timedelta(days=1)
EXCLUSIONS = {"implant_within_30cm": False, "seizure_disorder": False, "neurological_condition": False,
              "psychosis_current": False}


def criteria(decision: dict[str, object]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in decision["criteria"]}  # type: ignore[attr-defined]


def decide(tenant: Tenant, pid: int, criteria_set: str = "medicare_l34522") -> dict[str, object]:
    url = f"/api/v1/patients/{pid}/eligibility"
    response = tenant.client("psychiatrist").get(url, params={"criteria": criteria_set})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_criteria_sets_are_listed(tenant: Tenant) -> None:
    sets = tenant.client("admin").get("/api/v1/criteria-sets").json()
    expected = {"medicare_l37086", "aetna_cpb0469", "uhc_optum", "cigna_en0383", "centene_cpbh200"}
    assert expected <= {s["id"] for s in sets}


def test_a_new_patient_is_incomplete_and_says_what_is_missing(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    decision = decide(tenant, pid)
    assert decision["status"] == "incomplete" and decision["eligible"] is False
    status = criteria(decision)
    assert status["age"] == "met" and status["diagnosis"] == "met"
    assert status["baseline_scale"] == "missing" and status["psychiatrist_evaluation"] == "missing"
    missing = {m for c in decision["criteria"] for m in c["missing"]}  # type: ignore[attr-defined]
    assert "psychiatrist evaluation" in missing
    assert audit_rows(tenant, pid)[-1].entity == "eligibility"


def test_stored_records_make_the_patient_eligible(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    tech, psych = tenant.client("technician"), tenant.client("psychiatrist")
    tech.post(f"/api/v1/patients/{pid}/medication-trials", json={
        "drug": "escitalopram", "daily_dose": 20, "start_date": (TODAY - 120 * DAY).isoformat(),
        "stop_date": (TODAY - 60 * DAY).isoformat(), "outcome": "no_response"})
    tech.post(f"/api/v1/patients/{pid}/assessments", json={
        "instrument": "PHQ-9", "administered_at": at(days=-2), "items": [3, 3, 3, 2, 2, 2, 2, 2, 0, None]})
    put = psych.put(f"/api/v1/patients/{pid}/eligibility-profile", json={
        "conditions": EXCLUSIONS, "psychiatrist_evaluation": True, "psychiatrist_evaluated_on": TODAY.isoformat()})
    assert put.status_code == 200, put.text
    decision = decide(tenant, pid)
    assert decision["status"] == "eligible", decision["criteria"]
    evidence = next(c for c in decision["criteria"] if c["id"] == "baseline_scale")  # type: ignore[attr-defined]
    assert evidence["evidence"] == [f"PHQ-9 19 on {(TODAY - 2 * DAY).isoformat()}"]
    # A present exclusion flips it, with the reason; replacing the profile needs a reason.
    psychotic = {"conditions": EXCLUSIONS | {"psychosis_current": True}, "psychiatrist_evaluation": True}
    no_reason = psych.put(f"/api/v1/patients/{pid}/eligibility-profile", json=psychotic)
    assert no_reason.status_code == 422 and field_of(no_reason) == "reason"
    psych.put(f"/api/v1/patients/{pid}/eligibility-profile",
              json={"conditions": EXCLUSIONS | {"psychosis_current": True}, "psychiatrist_evaluation": True,
                    "reason": "psychotic features at today's visit"})
    decision = decide(tenant, pid)
    assert decision["status"] == "not_eligible" and criteria(decision)["exclusions"] == "not_met"
    amend = audit_rows(tenant, pid, "eligibility_profile")[-1]
    assert amend.action == "amend" and amend.old_values is not None and "conditions" in amend.old_values


def test_bad_input_is_named(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    psych = tenant.client("psychiatrist")
    unknown_set = psych.get(f"/api/v1/patients/{pid}/eligibility", params={"criteria": "acme"})
    assert unknown_set.status_code == 422 and field_of(unknown_set) == "criteria"
    no_set = psych.get(f"/api/v1/patients/{pid}/eligibility")
    assert no_set.status_code == 422 and field_of(no_set) == "criteria"
    unknown_condition = psych.put(f"/api/v1/patients/{pid}/eligibility-profile", json={"conditions": {"gout": True}})
    assert unknown_condition.status_code == 422 and field_of(unknown_condition) == "conditions.gout"
    future = psych.put(f"/api/v1/patients/{pid}/eligibility-profile",
                       json={"psychiatrist_evaluated_on": "2099-01-01"})
    assert future.status_code == 422 and field_of(future) == "psychiatrist_evaluated_on"
    assert count(tenant, EligibilityProfile) == 0


def test_other_clinics_get_404(tenant: Tenant, other_tenant: Tenant) -> None:
    pid = new_patient(tenant)
    outsider = other_tenant.client("psychiatrist")
    assert outsider.get(f"/api/v1/patients/{pid}/eligibility", params={"criteria": "uhc_optum"}).status_code == 404
    assert outsider.put(f"/api/v1/patients/{pid}/eligibility-profile", json={}).status_code == 404
    assert tenant.client("psychiatrist").get(f"/api/v1/patients/{pid}/eligibility-profile").status_code == 404
