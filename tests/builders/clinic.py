"""Builders for the scheduling API tests: a clinic ready to book (hours, a chair with a device, a technician
on shift), a patient and a course, through the API like a clinic would set them up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Tenant, patient_body

WRITE = {"X-Requested-With": "test"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# Ordering needs eligibility or a documented exception; most tests are not about eligibility.
EXCEPTION = {"basis": "clinical_judgement", "reason": "ordered on clinical judgement for the test"}


def error_field(response: Any) -> str:
    """The field named by a 4xx: the first detail's field, else the message's prefix."""
    body = response.json()["error"]
    details = body.get("details")
    if isinstance(details, list) and details:
        return str(details[0]["field"])
    return str(body["message"]).split(":", 1)[0]


@dataclass
class Clinic:
    tenant: Tenant
    admin: TestClient
    psych: TestClient
    tech: TestClient
    chair_id: int
    device_id: int
    technician_id: int

    def patient(self, **overrides: object) -> int:
        return int(ok(self.tech.post("/api/v1/patients", json=patient_body(**overrides)), 201)["id"])

    def course(self, patient_id: int | None = None, **overrides: object) -> dict[str, Any]:
        body: dict[str, Any] = {"patient_id": patient_id or self.patient(), "protocol_id": "hf10_3000_iti26",
                                "intensity_pct_mt": 120, "eligibility_exception": EXCEPTION}
        return dict(ok(self.psych.post("/api/v1/courses", json=body | overrides), 201))

    def authorization(self, course_id: int, sessions: int = 36, start: str = "2026-11-23",
                      end: str = "2027-03-31", **extra: object) -> dict[str, Any]:
        body = {"course_id": course_id, "payer": "Medicare", "number": f"A-{uuid.uuid4().hex[:8]}",
                "start_date": start, "end_date": end,
                "units": [{"cpt": "90867", "units": 1}, {"cpt": "90868", "units": sessions - 1}]}
        return dict(ok(self.admin.post("/api/v1/authorizations", json=body | extra), 201))

    def add_chair(self, name: str, model: str = "magstim-rapid2") -> tuple[int, int]:
        device = ok(self.admin.post("/api/v1/devices", json={
            "model": model, "serial": f"S-{uuid.uuid4().hex[:8]}", "coil_model": "D70"}), 201)
        chair = ok(self.admin.post("/api/v1/chairs", json={"name": name, "device_id": device["id"]}), 201)
        return int(chair["id"]), int(device["id"])


def ready_clinic(tenant: Tenant, *, hours: tuple[str, str] = ("08:00", "18:00")) -> Clinic:
    """Mon-Fri opening hours, one Rapid² chair, the tenant's technician on shift all day."""
    admin, psych, tech = tenant.client("admin"), tenant.client("psychiatrist"), tenant.client("technician")
    for c in (admin, psych, tech):
        c.headers.update(WRITE)
    ok(admin.put("/api/v1/calendar", json={
        "reason": "opening hours", "hours": [{"weekday": d, "open": hours[0], "close": hours[1]} for d in range(5)],
        "setup_buffer_minutes": 10, "country": "US", "subdivision": "MA"}))
    technician = tenant.users["technician"]
    r = admin.put(f"/api/v1/calendar/shifts/{technician}", json={
        "reason": "weekly rota", "shifts": [{"weekday": d, "start": hours[0], "end": hours[1]} for d in range(5)]})
    assert r.status_code == 204, r.text
    clinic = Clinic(tenant, admin, psych, tech, 0, 0, technician)
    clinic.chair_id, clinic.device_id = clinic.add_chair("Chair A")
    return clinic


def add_technician(clinic: Clinic, start: str = "08:00", end: str = "18:00") -> int:
    """Another technician of the clinic, on shift Mon-Fri."""
    user = ok(clinic.admin.post("/api/v1/users", json={
        "username": f"tech-{uuid.uuid4().hex[:8]}", "display_name": "Extra Technician", "role": "technician",
        "password": "correct horse battery"}), 201)
    r = clinic.admin.put(f"/api/v1/calendar/shifts/{user['id']}", json={
        "reason": "weekly rota", "shifts": [{"weekday": d, "start": start, "end": end} for d in range(5)]})
    assert r.status_code == 204, r.text
    return int(user["id"])


def book(clinic: Clinic, course_id: int, start_at: str, **extra: object) -> Any:
    """POST a single booking on the clinic's chair with its technician (returns the response)."""
    body = {"course_id": course_id, "chair_id": clinic.chair_id, "technician_id": clinic.technician_id,
            "start_at": start_at}
    return clinic.tech.post("/api/v1/bookings", json=body | extra)
