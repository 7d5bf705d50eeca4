"""The clinic's path to a treatable booking, through the API as the clinic would walk it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.clinic import WRITE, book, ok, ready_clinic
from tests.builders.records import ALL_NO, CHECKLIST_OK
from tests.conftest import T0, Tenant


@dataclass
class Treatable:
    tenant: Tenant
    tech: TestClient
    patient_id: int
    course_id: int
    booking_id: int
    chair_id: int
    device_id: int = 0


def treatable_booking(tenant: Tenant, *, model: str = "magstim-rapid2", protocol_id: str = "hf10_3000_iti26",
                      intensity_pct_mt: float = 120, mt_pct_mso: float = 50, mode: str = "control",
                      mt_at: datetime | None = None) -> Treatable:
    """A self-pay patient with an active course, a clear screen, a fresh MT and a booking now on a chair."""
    clinic = ready_clinic(tenant)
    chair_id, device_id = clinic.add_chair(f"Chair {model}", model=model)
    if mode != "control":
        ok(clinic.admin.patch(f"/api/v1/chairs/{chair_id}", json={"mode": mode, "reason": "record mode chair"}))
    pid = clinic.patient(payer=None)
    course = clinic.course(pid, protocol_id=protocol_id, intensity_pct_mt=intensity_pct_mt)
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status",
                         json={"status": "active", "reason": "screened and consented"}))
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/screenings", json={"course_id": course["id"], "answers": ALL_NO}),
       201)
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/motor-thresholds", json={
        "determined_at": (mt_at or T0.replace(hour=13)).isoformat(), "method": "emg_relative_frequency",
        "muscle": "APB", "value_pct_mso": mt_pct_mso, "device_id": device_id}), 201)
    booking = ok(book(clinic, course["id"], T0.isoformat(), chair_id=chair_id), 201)
    return Treatable(tenant, clinic.tech, pid, course["id"], booking["id"], chair_id, device_id)


def check_in_and_ready(t: Treatable, answers: dict[str, str] | None = None) -> dict[str, Any]:
    """Check the patient in and answer the checklist; returns the session."""
    session = ok(t.tech.post(f"/api/v1/bookings/{t.booking_id}/check-in", headers=WRITE), 201)
    body = {"answers": answers or CHECKLIST_OK, "coil_position": {"method": "beam_f3", "x_cm": 5.1, "y_cm": 7.2}}
    return dict(ok(t.tech.put(f"/api/v1/sessions/{session['id']}/checklist", json=body, headers=WRITE)))
