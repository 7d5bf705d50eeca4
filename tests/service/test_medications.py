"""Medication history: trials with adequacy reasons, psychotherapy, medication changes; amend with reason, no delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from service.models.medications import MedicationChange, MedicationTrial, PsychotherapyTrial
from tests.builders.records import TODAY, WRITE, audit_rows, count, field_of, new_patient
from tests.conftest import Tenant

DAY = timedelta(days=1)


def trial(**fields: Any) -> dict[str, Any]:
    return {"drug": "Sertraline", "daily_dose": 150, "start_date": (TODAY - 70 * DAY).isoformat(),
            "stop_date": (TODAY - 10 * DAY).isoformat(), "outcome": "no_response"} | fields


def test_a_trial_is_stored_with_its_class_and_adequacy(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    response = tenant.client("technician").post(f"/api/v1/patients/{pid}/medication-trials", json=trial())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["drug"] == "sertraline" and body["drug_class"] == "SSRI"
    assert body["assessment"]["counts_as_failure"] is True and body["assessment"]["adequate_duration"] is True
    short = tenant.client("technician").post(f"/api/v1/patients/{pid}/medication-trials",
                                             json=trial(start_date=(TODAY - 20 * DAY).isoformat()))
    assert short.json()["assessment"]["counts_as_failure"] is False
    assert any("weeks" in r for r in short.json()["assessment"]["reasons"])
    assert [r.action for r in audit_rows(tenant, pid, "medication_trial")] == ["create", "create"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start_date": (TODAY + DAY).isoformat(), "stop_date": None}, "start_date"),
        ({"stop_date": (TODAY + DAY).isoformat()}, "stop_date"),
        ({"stop_date": (TODAY - 80 * DAY).isoformat()}, "stop_date"),
        ({"outcome": "intolerance", "side_effect": None}, "side_effect"),
        ({"outcome": "cured"}, "outcome"),
        ({"drug_class": "herbal"}, "drug_class"),
        ({"daily_dose": -5}, "daily_dose"),
        ({"clinic_id": 99}, "clinic_id"),
    ],
)
def test_invalid_trials_name_the_field_and_store_nothing(tenant: Tenant, fields: dict[str, Any], field: str) -> None:
    pid = new_patient(tenant)
    before = count(tenant, MedicationTrial), len(audit_rows(tenant, pid))
    response = tenant.client("technician").post(f"/api/v1/patients/{pid}/medication-trials", json=trial(**fields))
    assert response.status_code == 422 and field_of(response) == field
    assert (count(tenant, MedicationTrial), len(audit_rows(tenant, pid))) == before


def test_amendment_needs_a_reason_keeps_old_values_and_voids_instead_of_deleting(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    client = tenant.client("psychiatrist")
    tid = client.post(f"/api/v1/patients/{pid}/medication-trials", json=trial()).json()["id"]
    no_reason = client.patch(f"/api/v1/medication-trials/{tid}", json={"daily_dose": 200})
    assert no_reason.status_code == 422 and field_of(no_reason) == "reason"
    bad = client.patch(f"/api/v1/medication-trials/{tid}",
                       json={"stop_date": (TODAY - 100 * DAY).isoformat(), "reason": "typo in the chart"})
    assert bad.status_code == 422 and field_of(bad) == "stop_date"
    amended = client.patch(f"/api/v1/medication-trials/{tid}", json={"daily_dose": 200, "reason": "dose per pharmacy"})
    assert amended.status_code == 200 and amended.json()["version"] == 2
    last = audit_rows(tenant, pid, "medication_trial")[-1]
    assert last.action == "amend" and last.reason == "dose per pharmacy"
    assert last.old_values == {"daily_dose": 150.0}
    void = client.patch(f"/api/v1/medication-trials/{tid}", json={"entered_in_error": True, "reason": "wrong patient"})
    assert void.json()["entered_in_error"] is True and void.json()["assessment"] is None
    assert client.delete(f"/api/v1/medication-trials/{tid}").status_code == 405


def test_psychotherapy_trials(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    client = tenant.client("technician")
    body = {"modality": "CBT", "start_date": (TODAY - 200 * DAY).isoformat(),
            "stop_date": (TODAY - 100 * DAY).isoformat(), "outcome": "partial"}
    created = client.post(f"/api/v1/patients/{pid}/psychotherapy-trials", json=body)
    assert created.status_code == 201, created.text
    backwards = client.post(f"/api/v1/patients/{pid}/psychotherapy-trials",
                            json=body | {"stop_date": (TODAY - 300 * DAY).isoformat()})
    assert backwards.status_code == 422 and field_of(backwards) == "stop_date"
    assert count(tenant, PsychotherapyTrial, patient_id=pid) == 1
    listed = client.get(f"/api/v1/patients/{pid}/psychotherapy-trials").json()
    assert [t["modality"] for t in listed] == ["CBT"]


def test_medication_changes_derive_the_cns_flag(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    client = tenant.client("technician")
    url = f"/api/v1/patients/{pid}/medication-changes"
    benzo = client.post(url, json={"drug": "clonazepam", "change": "start", "changed_on": TODAY.isoformat()}).json()
    ssri = client.post(url, json={"drug": "sertraline", "change": "stop", "changed_on": TODAY.isoformat()}).json()
    unknown = client.post(url, json={"drug": "kratom", "change": "start", "changed_on": TODAY.isoformat()}).json()
    assert (benzo["cns_active"], ssri["cns_active"], unknown["cns_active"]) == (True, False, True)
    future = client.post(url, json={"drug": "sertraline", "change": "start", "changed_on": "2099-01-01"})
    assert future.status_code == 422 and field_of(future) == "changed_on"
    assert count(tenant, MedicationChange, patient_id=pid) == 3


def test_roles_and_other_clinics(tenant: Tenant, other_tenant: Tenant) -> None:
    pid = new_patient(tenant)
    tid = tenant.client("technician").post(f"/api/v1/patients/{pid}/medication-trials", json=trial()).json()["id"]
    assert tenant.client("admin").post(f"/api/v1/patients/{pid}/medication-trials", json=trial(),
                                       headers=WRITE).status_code == 403
    outsider = other_tenant.client("psychiatrist")
    assert outsider.get(f"/api/v1/patients/{pid}/medication-trials").status_code == 404
    assert outsider.patch(f"/api/v1/medication-trials/{tid}",
                          json={"daily_dose": 10, "reason": "probing"}).status_code == 404
    listing = tenant.client("technician").get(f"/api/v1/patients/{pid}/medication-trials")
    assert [t["id"] for t in listing.json()] == [tid] and audit_rows(tenant, pid)[-1].action == "read"


def test_a_class_contradicting_the_drug_table_is_refused_by_name_and_stores_nothing(tenant: Tenant) -> None:
    """Sertraline labelled a TCA would count as a second class of failed trial: the table's SSRI is the class."""
    pid = new_patient(tenant)
    client = tenant.client("technician")
    before = count(tenant, MedicationTrial), len(audit_rows(tenant, pid))
    r = client.post(f"/api/v1/patients/{pid}/medication-trials", json=trial(drug_class="TCA"))
    assert r.status_code == 422 and field_of(r) == "drug_class"
    assert "SSRI" in r.json()["error"]["message"], r.text
    assert (count(tenant, MedicationTrial), len(audit_rows(tenant, pid))) == before
    same = client.post(f"/api/v1/patients/{pid}/medication-trials", json=trial(drug_class="SSRI"))
    assert same.status_code == 201 and same.json()["drug_class"] == "SSRI"
    tid = same.json()["id"]
    amended = tenant.client("psychiatrist").patch(f"/api/v1/medication-trials/{tid}",
                                                  json={"drug_class": "MAOI", "reason": "relabel the class"})
    assert amended.status_code == 422 and field_of(amended) == "drug_class"


def test_a_dose_unit_other_than_the_tables_is_refused_and_an_omitted_one_is_the_tables(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    client = tenant.client("technician")
    r = client.post(f"/api/v1/patients/{pid}/medication-trials", json=trial(dose_unit="mcg/day"))
    assert r.status_code == 422 and field_of(r) == "dose_unit" and "mg/day" in r.json()["error"]["message"]
    t3 = client.post(f"/api/v1/patients/{pid}/medication-trials", json=trial(drug="liothyronine", daily_dose=25,
                                                                             augmentation=True))
    assert t3.status_code == 201 and t3.json()["dose_unit"] == "mcg/day", t3.text


def test_a_cns_flag_contradicting_the_drug_table_is_refused(tenant: Tenant) -> None:
    """Bupropion (NDRI) is CNS-active by the table: a change sent as not CNS-active would skip the MT re-check."""
    pid = new_patient(tenant)
    url = f"/api/v1/patients/{pid}/medication-changes"
    client = tenant.client("technician")
    body = {"drug": "bupropion", "change": "dose_change", "changed_on": TODAY.isoformat(), "new_daily_dose": 300}
    before = count(tenant, MedicationChange)
    refused = client.post(url, json=body | {"cns_active": False})
    assert refused.status_code == 422 and field_of(refused) == "cns_active", refused.text
    assert count(tenant, MedicationChange) == before
    mislabelled = client.post(url, json=body | {"drug_class": "SSRI"})
    assert mislabelled.status_code == 422 and field_of(mislabelled) == "drug_class"
    stored = client.post(url, json=body)
    assert stored.status_code == 201 and stored.json()["cns_active"] is True and stored.json()["drug_class"] == "NDRI"
