"""Patients: create, read, list, amend with a reason; never delete; clinics never see each other."""

from __future__ import annotations

from sqlmodel import Session, select

from service.models.audit import AuditEvent
from tests.conftest import Tenant, patient_body


def _audit_rows(tenant: Tenant, patient_id: int) -> list[AuditEvent]:
    with Session(tenant.app.state.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.id)))


def test_create_read_and_list_a_patient_are_audited(tenant: Tenant) -> None:
    tech = tenant.client("technician")
    created = tech.post("/api/v1/patients", json=patient_body(family_name="Alvarez"))
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert created.json()["clinic_id"] == tenant.clinic_id and created.json()["version"] == 1

    read = tech.get(f"/api/v1/patients/{pid}")
    assert read.status_code == 200 and read.json()["family_name"] == "Alvarez"
    listing = tech.get("/api/v1/patients", params={"q": "alva"})
    assert [p["id"] for p in listing.json()["items"]] == [pid]

    rows = _audit_rows(tenant, pid)
    assert [r.action for r in rows] == ["create", "read"]
    assert rows[0].new_values is not None and rows[0].new_values["family_name"] == "Alvarez"
    assert rows[1].user_id == tenant.users["technician"]


def test_amendment_keeps_old_value_and_reason(tenant: Tenant) -> None:
    client = tenant.client("psychiatrist")
    pid = client.post("/api/v1/patients", json=patient_body(payer="Aetna")).json()["id"]
    amended = client.patch(f"/api/v1/patients/{pid}", json={"payer": "Cigna", "reason": "insurance changed"})
    assert amended.status_code == 200, amended.text
    assert amended.json()["payer"] == "Cigna" and amended.json()["version"] == 2
    last = _audit_rows(tenant, pid)[-1]
    assert last.action == "amend" and last.reason == "insurance changed"
    assert last.old_values == {"payer": "Aetna"}
    assert last.new_values == {"payer": "Cigna", "version": 2}


def test_amendment_without_reason_is_refused_and_changes_nothing(tenant: Tenant) -> None:
    client = tenant.client("technician")
    pid = client.post("/api/v1/patients", json=patient_body(payer="Aetna")).json()["id"]
    before = len(_audit_rows(tenant, pid))
    refused = client.patch(f"/api/v1/patients/{pid}", json={"payer": "Cigna"})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "reason"
    assert client.get(f"/api/v1/patients/{pid}").json()["payer"] == "Aetna"
    assert len(_audit_rows(tenant, pid)) == before + 1  # only the read just above


def test_invalid_fields_are_named(tenant: Tenant) -> None:
    client = tenant.client("technician")
    bad = client.post("/api/v1/patients", json=patient_body(primary_diagnosis="depression", sex="x"))
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"primary_diagnosis", "sex"}
    future = client.post("/api/v1/patients", json=patient_body(date_of_birth="2099-01-01"))
    assert future.status_code == 422 and future.json()["error"]["details"][0]["field"] == "date_of_birth"


def test_unknown_fields_are_refused_not_stored(tenant: Tenant, other_tenant: Tenant) -> None:
    client = tenant.client("technician")
    sneaky = client.post("/api/v1/patients", json=patient_body(clinic_id=other_tenant.clinic_id, version=9))
    assert sneaky.status_code == 422
    assert {d["field"] for d in sneaky.json()["error"]["details"]} == {"clinic_id", "version"}


def test_duplicate_mrn_in_a_clinic_conflicts(tenant: Tenant, other_tenant: Tenant) -> None:
    body = patient_body()
    assert tenant.client("technician").post("/api/v1/patients", json=body).status_code == 201
    again = tenant.client("technician").post("/api/v1/patients", json=body)
    assert again.status_code == 409 and "MRN" in again.json()["error"]["message"]
    # The same MRN in another clinic is another patient.
    assert other_tenant.client("technician").post("/api/v1/patients", json=body).status_code == 201


def test_another_clinics_patient_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    pid = tenant.client("technician").post("/api/v1/patients", json=patient_body()).json()["id"]
    outsider = other_tenant.client("psychiatrist")
    assert outsider.get(f"/api/v1/patients/{pid}").status_code == 404
    assert outsider.patch(f"/api/v1/patients/{pid}", json={"payer": "X", "reason": "probing"}).status_code == 404
    assert pid not in [p["id"] for p in outsider.get("/api/v1/patients").json()["items"]]


def test_there_is_no_delete(tenant: Tenant) -> None:
    client = tenant.client("admin")
    pid = client.post("/api/v1/patients", json=patient_body()).json()["id"]
    assert client.delete(f"/api/v1/patients/{pid}").status_code == 405
    assert client.get(f"/api/v1/patients/{pid}").status_code == 200
