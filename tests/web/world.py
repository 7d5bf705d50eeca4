"""A clinic with a treatable booking, built through the API the way a clinic sets one up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import T0, Tenant
from tests.service.clinical_helpers import ALL_NO, CHECKLIST_OK
from tests.service.scheduling import WRITE, Clinic, book, ok, ready_clinic


@dataclass
class World:
    clinic: Clinic
    patient_id: int
    course_id: int
    booking_id: int

    @property
    def tech(self) -> TestClient:
        return self.clinic.tech

    @property
    def psych(self) -> TestClient:
        return self.clinic.psych


def treatable(tenant: Tenant, *, mt_pct_mso: float = 50, start: Any = T0) -> World:
    """An active course with a clear screen, a fresh MT, an authorization and a booking at ``start``."""
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    course = clinic.course(pid)
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status",
                         json={"status": "active", "reason": "screened and consented"}))
    clinic.authorization(course["id"])
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/screenings", json={"course_id": course["id"], "answers": ALL_NO}),
       201)
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/motor-thresholds", json={
        "determined_at": (T0 - timedelta(hours=1)).isoformat(), "method": "emg_relative_frequency",
        "muscle": "APB", "value_pct_mso": mt_pct_mso}), 201)
    booking = ok(book(clinic, course["id"], start.isoformat()), 201)
    return World(clinic, pid, course["id"], booking["id"])


def check_in(world: World) -> dict[str, Any]:
    """Check in and answer the checklist with nothing blocking; returns the session."""
    session = ok(world.tech.post(f"/api/v1/bookings/{world.booking_id}/check-in", headers=WRITE), 201)
    body = {"answers": CHECKLIST_OK}
    return dict(ok(world.tech.put(f"/api/v1/sessions/{session['id']}/checklist", json=body, headers=WRITE)))
