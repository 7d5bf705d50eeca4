"""Protocol catalog, validation with the exact answer shape, and psychiatrists' signed overrides."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from service.models.protocols import ProtocolOverride
from tests.builders.records import audit_rows, count, field_of, new_patient
from tests.conftest import PASSWORD, Tenant

TEN_HZ = {"frequency_hz": 10, "intensity_pct_mt": 120, "train_duration_s": 4, "iti_s": 26, "trains": 75}


def validate(tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = tenant.client("technician").post("/api/v1/protocols/validate", json=TEN_HZ | params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_catalog_has_derived_timing(tenant: Tenant) -> None:
    catalog = tenant.client("admin").get("/api/v1/protocols").json()
    ten = next(p for p in catalog if p["id"] == "hf10_3000_iti26")
    assert ten["derived"]["total_pulses"] == 3000 and ten["timing_violations"] == []


def test_validation_answers_exactly_ok_and_violations(tenant: Tenant) -> None:
    assert validate(tenant) == {"ok": True, "violations": []}  # the cleared 10 Hz protocol
    assert validate(tenant, iti_s=20)["ok"] is True  # 4 s trains at 10 Hz / 120% are within the table
    refused = validate(tenant, train_duration_s=5)
    assert refused["ok"] is False and set(refused) == {"ok", "violations"}
    v = refused["violations"][0]
    assert set(v) == {"rule", "limit", "value", "message"} and v["rule"] == "ifcn_single_train" and v["value"] == 5
    assert validate(tenant, frequency_hz=20, intensity_pct_mt=110, train_duration_s=1.6, trains=10)["ok"] is True
    assert validate(tenant, frequency_hz=20, intensity_pct_mt=110, train_duration_s=1.7, trains=10)["ok"] is False


def test_invalid_parameters_name_the_field(tenant: Tenant) -> None:
    client = tenant.client("technician")
    no_freq = client.post("/api/v1/protocols/validate", json={k: v for k, v in TEN_HZ.items() if k != "frequency_hz"})
    assert no_freq.status_code == 422 and field_of(no_freq) == "frequency_hz"
    negative = client.post("/api/v1/protocols/validate", json=TEN_HZ | {"trains": 0})
    assert negative.status_code == 422 and field_of(negative) == "trains"


def override_body(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    return {"parameters": TEN_HZ | {"train_duration_s": 5}, "reason": "research protocol approved by IRB 2026-14",
            "printed_name": f"psychiatrist {tenant.usernames['psychiatrist'].split('-')[1]}",
            "password": PASSWORD} | fields


def test_a_signed_override_stores_name_time_meaning_and_hash(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    client = tenant.client("psychiatrist")
    signed = client.post("/api/v1/protocols/overrides", json=override_body(tenant, patient_id=pid))
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert body["meaning"] == "approved" and body["signed_by"] == tenant.users["psychiatrist"]
    assert body["violations"][0]["rule"] == "ifcn_single_train"
    params = body["parameters"]
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    assert body["parameters_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    sign = audit_rows(tenant, pid, "protocol_override")[-1]
    assert sign.action == "sign" and "password" not in json.dumps(sign.new_values)


def test_an_override_needs_the_password_the_name_and_a_violation(tenant: Tenant) -> None:
    client = tenant.client("psychiatrist")
    wrong = client.post("/api/v1/protocols/overrides", json=override_body(tenant, password="guess"))
    assert wrong.status_code == 422 and field_of(wrong) == "password"
    name = client.post("/api/v1/protocols/overrides", json=override_body(tenant, printed_name="Someone Else"))
    assert name.status_code == 422 and field_of(name) == "printed_name"
    needless = client.post("/api/v1/protocols/overrides", json=override_body(tenant, parameters=TEN_HZ))
    assert needless.status_code == 422 and field_of(needless) == "parameters"
    assert count(tenant, ProtocolOverride) == 0
    tech = tenant.client("technician").post("/api/v1/protocols/overrides", json=override_body(tenant),
                                            headers={"X-Requested-With": "t"})
    assert tech.status_code == 403
