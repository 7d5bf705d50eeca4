"""Motor thresholds: history never overwritten, depth adjustment, freshness with reasons, Beam F3."""

from __future__ import annotations

from typing import Any

import pytest

from service.core.db import session_scope
from service.models.chairs import Device
from service.models.motor_thresholds import MotorThreshold
from tests.builders.records import TODAY, at, audit_rows, clinic_device, count, field_of, new_patient
from tests.conftest import T0, Tenant

BASE = {"method": "emg_relative_frequency", "muscle": "APB", "value_pct_mso": 52.0}


def record(tenant: Tenant, pid: int, **fields: Any) -> Any:
    body = BASE | {"determined_at": at(hours=-1), "device_id": clinic_device(tenant)} | fields
    return tenant.client("technician").post(f"/api/v1/patients/{pid}/motor-thresholds", json=body)


def freshness(tenant: Tenant, pid: int) -> dict[str, Any]:
    return dict(tenant.client("technician").get(f"/api/v1/patients/{pid}/motor-threshold/freshness").json())


def test_history_is_kept_and_the_newest_is_in_force(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    assert record(tenant, pid, determined_at=at(days=-9), value_pct_mso=50).status_code == 201
    second = record(tenant, pid, value_pct_mso=54, d_m1_mm=14, d_target_mm=16)
    assert second.status_code == 201, second.text
    assert second.json()["adjusted_pct_mso"] == 60.0  # 54 + 3 %/mm × 2 mm (Stokes 2005)
    assert second.json()["operator_id"] == tenant.users["technician"]
    history = tenant.client("psychiatrist").get(f"/api/v1/patients/{pid}/motor-thresholds").json()
    assert [h["value_pct_mso"] for h in history] == [50, 54]
    fresh = freshness(tenant, pid)
    assert fresh["stale"] is False and fresh["determination"]["id"] == second.json()["id"]
    assert [r.action for r in audit_rows(tenant, pid, "motor_threshold")] == ["create", "create", "read", "read"]


def test_staleness_says_why(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    assert freshness(tenant, pid)["reasons"] == ["no motor threshold on record for this course"]
    record(tenant, pid, determined_at=at(days=-7))
    stale = freshness(tenant, pid)
    assert stale["stale"] is True and stale["redetermination_cpt"] == "90869"
    assert "7 days old" in stale["reasons"][0]
    record(tenant, pid)
    tenant.client("technician").post(f"/api/v1/patients/{pid}/medication-changes",
                                     json={"drug": "bupropion", "change": "start", "changed_on": TODAY.isoformat()})
    assert freshness(tenant, pid)["stale"] is False  # a same-day change precedes the same-day MT (dates carry no time)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"determined_at": at(days=1)}, "determined_at"),
        ({"value_pct_mso": 0}, "value_pct_mso"),
        ({"value_pct_mso": 101}, "value_pct_mso"),
        ({"method": "guesswork"}, "method"),
        ({"d_m1_mm": 14}, "body"),
        ({"d_m1_mm": 10, "d_target_mm": 30, "value_pct_mso": 60}, "d_target_mm"),
        ({"device_id": 2_000_000_000}, "device_id"),
    ],
)
def test_invalid_determinations_name_the_field_and_store_nothing(
    tenant: Tenant, fields: dict[str, Any], field: str
) -> None:
    pid = new_patient(tenant)
    response = record(tenant, pid, **fields)
    assert response.status_code == 422 and field_of(response) == field
    assert count(tenant, MotorThreshold) == 0


def test_device_coil_is_taken_from_the_clinics_device(tenant: Tenant, other_tenant: Tenant) -> None:
    with session_scope(tenant.app.state.engine) as session:
        device = Device(clinic_id=other_tenant.clinic_id, model="magstim-rapid2", serial="X-1", coil_model="D70",
                        created_at=T0)
        session.add(device)
        session.flush()
        foreign = device.id
        mine = Device(clinic_id=tenant.clinic_id, model="magstim-rapid2", serial="X-2", coil_model="D70 Alpha",
                      created_at=T0)
        session.add(mine)
        session.flush()
        own = mine.id
    pid = new_patient(tenant)
    assert field_of(record(tenant, pid, device_id=foreign)) == "device_id"
    assert record(tenant, pid, device_id=own).json()["coil"] == "D70 Alpha"


def test_beam_f3_and_access(tenant: Tenant, other_tenant: Tenant) -> None:
    body = {"tragus_tragus_cm": 35, "nasion_inion_cm": 35, "circumference_cm": 57}
    pos = tenant.client("technician").post("/api/v1/calculators/beam-f3", json=body).json()
    assert pos["x_cm"] == pytest.approx(6.6, abs=0.1) and pos["y_cm"] == pytest.approx(9.2, abs=0.1)
    bad = tenant.client("technician").post("/api/v1/calculators/beam-f3", json=body | {"circumference_cm": -1})
    assert bad.status_code == 422 and field_of(bad) == "circumference_cm"
    pid = new_patient(tenant)
    assert record(other_tenant, pid).status_code == 404
    assert other_tenant.client("technician").get(f"/api/v1/patients/{pid}/motor-thresholds").status_code == 404
    assert tenant.client("admin").post(f"/api/v1/patients/{pid}/motor-thresholds", json=BASE,
                                       headers={"X-Requested-With": "t"}).status_code == 403
