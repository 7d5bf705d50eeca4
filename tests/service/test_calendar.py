"""Clinic calendar and resources: opening hours and settings, holidays, closures, technician shifts, chairs and
devices with their protocol capabilities; admins only for writes, audit rows, cross-clinic 404."""

from __future__ import annotations

from sqlmodel import col, select

from service.core.db import session_scope
from service.models.audit import AuditEvent
from tests.builders.clinic import WRITE, add_technician, error_field, ok, ready_clinic
from tests.conftest import Tenant


def _actions(tenant: Tenant, entity: str) -> list[str]:
    with session_scope(tenant.app.state.engine) as s:
        query = select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.clinic_id == tenant.clinic_id)
        return [a.action for a in s.exec(query.order_by(col(AuditEvent.id))).all()]


def test_defaults_then_update(tenant: Tenant) -> None:
    tech = tenant.client("technician")
    fresh = ok(tech.get("/api/v1/calendar"))
    assert fresh["version"] == 0 and len(fresh["hours"]) == 5 and fresh["setup_buffer_minutes"] == 10
    clinic = ready_clinic(tenant)
    got = ok(clinic.tech.get("/api/v1/calendar"))
    assert got["subdivision"] == "MA" and got["version"] == 1 and got["hours"][0]["open"] == "08:00:00"
    assert _actions(tenant, "clinic_schedule") == ["update"]


def test_update_refusals_name_the_field(tenant: Tenant) -> None:
    admin = tenant.client("admin")
    admin.headers.update(WRITE)
    base = {"reason": "new hours", "hours": [{"weekday": 0, "open": "08:00", "close": "18:00"}]}
    cases = [
        (base | {"hours": [{"weekday": 7, "open": "08:00", "close": "18:00"}]}, "hours[0].weekday"),
        (base | {"hours": [{"weekday": 0, "open": "18:00", "close": "08:00"}]}, "hours[0]"),
        (base | {"country": "XX"}, "country"),
        (base | {"country": "US", "subdivision": "ZZ"}, "subdivision"),
        (base | {"setup_buffer_minutes": -1}, "setup_buffer_minutes"),
        ({"hours": []}, "reason"),
    ]
    for body, field in cases:
        r = admin.put("/api/v1/calendar", json=body)
        assert r.status_code == 422, (body, r.text)
        assert error_field(r) == field, (body, r.text)
    assert tenant.client("technician").put("/api/v1/calendar", json=base, headers=WRITE).status_code == 403


def test_days_show_holidays_and_closures(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    closure = ok(clinic.admin.post("/api/v1/calendar/closures", json={"day": "2026-11-25", "reason": "staff day"}),
                 201)
    r = clinic.admin.post("/api/v1/calendar/closures", json={"day": "2026-11-25", "reason": "again"})
    assert r.status_code == 409 and error_field(r) == "day"
    days = {d["day"]: d for d in ok(clinic.tech.get("/api/v1/calendar/days?from=2026-11-23&to=2026-11-29"))}
    assert days["2026-11-23"]["open"] and days["2026-11-23"]["hours"]["close"] == "18:00:00"
    assert "staff day" in days["2026-11-25"]["closed_reason"]
    assert "Thanksgiving" in days["2026-11-26"]["closed_reason"]
    assert "Saturday" in days["2026-11-28"]["closed_reason"]
    ok(clinic.admin.post(f"/api/v1/calendar/closures/{closure['id']}/withdraw", json={"reason": "we are open"}))
    days = {d["day"]: d for d in ok(clinic.tech.get("/api/v1/calendar/days?from=2026-11-25&to=2026-11-25"))}
    assert days["2026-11-25"]["open"]
    assert ok(clinic.tech.get("/api/v1/calendar/closures"))[0]["withdrawn_at"] is not None
    r = clinic.tech.get("/api/v1/calendar/days?from=2026-11-25&to=2026-11-01")
    assert r.status_code == 422 and error_field(r) == "to"
    assert _actions(tenant, "clinic_closure") == ["create", "withdraw"]


def test_technician_shifts(tenant: Tenant, other_tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    late = add_technician(clinic, "12:00", "18:00")
    shifts = {t["user_id"]: t["shifts"] for t in ok(clinic.tech.get("/api/v1/calendar/shifts"))}
    assert shifts[late][0] == {"weekday": 0, "start": "12:00:00", "end": "18:00:00"}
    overlap = {"reason": "split shift", "shifts": [{"weekday": 0, "start": "08:00", "end": "12:00"},
                                                   {"weekday": 0, "start": "11:00", "end": "15:00"}]}
    r = clinic.admin.put(f"/api/v1/calendar/shifts/{late}", json=overlap)
    assert r.status_code == 422 and error_field(r) == "shifts"
    r = clinic.admin.put(f"/api/v1/calendar/shifts/{tenant.users['psychiatrist']}", json={"reason": "not a tech",
                                                                                          "shifts": []})
    assert r.status_code == 404
    foreign = other_tenant.client("admin")
    r = foreign.put(f"/api/v1/calendar/shifts/{late}", json={"reason": "steal", "shifts": []}, headers=WRITE)
    assert r.status_code == 404
    assert "update" in _actions(tenant, "technician_shifts")


def test_devices_and_their_capabilities(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    models = {m["model"]: m for m in ok(clinic.tech.get("/api/v1/devices/models"))}
    # A Rapid² gives iTBS from its own console but cannot be programmed for burst trains over serial.
    assert "itbs_600" in models["magstim-rapid2"]["cannot_run"] and "itbs_600" in models["magventure-x100"]["protocols"]
    assert "itbs_600" in models["magventure-r30"]["cannot_run"]
    assert all("dtms_h1_18hz_1980" in m["cannot_run"] for m in models.values())  # no BrainsWay-type device
    assert models["magstim-200"]["protocols"] == []
    r = clinic.admin.post("/api/v1/devices", json={"model": "brainsway-h1", "serial": "B1", "coil_model": "H1"})
    assert r.status_code == 422 and error_field(r) == "model"
    device = ok(clinic.admin.post("/api/v1/devices", json={"model": "magventure-r30", "serial": "R30-1",
                                                           "coil_model": "Cool-B65"}), 201)
    assert "itbs_600" not in device["protocols"] and "hf10_3000_iti26" in device["protocols"]
    r = clinic.admin.post("/api/v1/devices", json={"model": "magventure-r30", "serial": "R30-1", "coil_model": "C"})
    assert r.status_code == 409 and error_field(r) == "serial"
    amended = ok(clinic.admin.patch(f"/api/v1/devices/{device['id']}", json={"reason": "coil swapped",
                                                                              "coil_model": "MCF-B70"}))
    assert amended["coil_model"] == "MCF-B70"
    assert clinic.tech.post("/api/v1/devices", json={"model": "magventure-r30", "serial": "R30-2",
                                                     "coil_model": "C"}).status_code == 403
    assert _actions(tenant, "device").count("create") == 2


def test_chairs(tenant: Tenant, other_tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    r = clinic.admin.post("/api/v1/chairs", json={"name": "Chair A"})
    assert r.status_code == 409 and error_field(r) == "name"
    r = clinic.admin.post("/api/v1/chairs", json={"name": "Chair B", "device_id": clinic.device_id})
    assert r.status_code == 409 and error_field(r) == "device_id"
    chair = ok(clinic.admin.post("/api/v1/chairs", json={"name": "Chair B", "mode": "record"}), 201)
    assert chair["protocols"] == [] and chair["mode"] == "record"
    moved = ok(clinic.admin.patch(f"/api/v1/chairs/{chair['id']}", json={"reason": "inactive for repair",
                                                                          "active": False}))
    assert moved["active"] is False
    r = clinic.admin.patch(f"/api/v1/chairs/{chair['id']}", json={"reason": "x" * 5, "mode": "turbo"})
    assert r.status_code == 422 and error_field(r) == "mode"
    foreign = other_tenant.client("admin")
    r = foreign.patch(f"/api/v1/chairs/{chair['id']}", json={"reason": "mine now", "active": True}, headers=WRITE)
    assert r.status_code == 404
    names = [c["name"] for c in ok(clinic.tech.get("/api/v1/chairs"))]
    assert names == ["Chair A", "Chair B"]
