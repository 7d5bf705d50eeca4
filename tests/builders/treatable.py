"""A clinic with a treatable booking, built through the API the way a clinic sets one up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.clinic import WRITE, Clinic, book, ok, ready_clinic
from tests.builders.records import ALL_NO, CHECKLIST_OK
from tests.conftest import T0, Tenant


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


def treatable(tenant: Tenant, *, mt_pct_mso: float = 50, start: Any = T0, model: str | None = None,
              protocol_id: str = "hf10_3000_iti26") -> World:
    """An active course with a clear screen, a fresh MT, an authorization and a booking at ``start``
    (on a chair of its own with a ``model`` stimulator when given)."""
    clinic = ready_clinic(tenant)
    if model is not None:
        clinic.chair_id, clinic.device_id = clinic.add_chair(f"Chair {model}", model=model)
    pid = clinic.patient()
    course = clinic.course(pid, protocol_id=protocol_id)
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status",
                         json={"status": "active", "reason": "screened and consented"}))
    clinic.authorization(course["id"])
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/screenings", json={"course_id": course["id"], "answers": ALL_NO}),
       201)
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/motor-thresholds", json={
        "determined_at": (T0 - timedelta(hours=1)).isoformat(), "method": "emg_relative_frequency",
        "muscle": "APB", "value_pct_mso": mt_pct_mso, "device_id": clinic.device_id}), 201)
    booking = ok(book(clinic, course["id"], start.isoformat()), 201)
    return World(clinic, pid, course["id"], booking["id"])


def check_in(world: World) -> dict[str, Any]:
    """Check in and answer the checklist with nothing blocking; returns the session."""
    session = ok(world.tech.post(f"/api/v1/bookings/{world.booking_id}/check-in", headers=WRITE), 201)
    body = {"answers": CHECKLIST_OK}
    return dict(ok(world.tech.put(f"/api/v1/sessions/{session['id']}/checklist", json=body, headers=WRITE)))


PHQ9_WEEKS = ((0, [3, 3, 2, 2, 2, 2, 2, 2, 0]), (7, [2, 2, 2, 2, 1, 2, 1, 1, 0]), (14, [1, 1, 1, 1, 1, 1, 1, 0, 0]),
              (21, [0, 1, 1, 0, 0, 1, 0, 0, 0]))


def with_history(world: World, *, delivered: int = 3) -> World:
    """Weekly PHQ-9s, a few delivered sessions (the last one short of pulses), and a headache."""
    for days, items in PHQ9_WEEKS:
        ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/assessments", json={
            "instrument": "PHQ-9", "course_id": world.course_id, "items": items,
            "administered_at": (T0 + timedelta(days=days - 21)).isoformat()}), 201)
    add_sessions(world, delivered)
    ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/adverse-events", json={
        "course_id": world.course_id, "term": "headache", "grade": 1,
        "onset_at": (T0 - timedelta(days=10)).isoformat()}), 201)
    return world


def add_sessions(world: World, count: int) -> None:
    """Delivered sessions written as the session service would leave them (bookings in the past)."""
    from service.core.db import session_scope
    from service.models.bookings import Booking
    from service.models.sessions import TreatmentSession

    tenant = world.clinic.tenant
    with session_scope(tenant.app.state.engine) as s:
        first = s.get(Booking, world.booking_id)
        assert first is not None
        first.sequence = count + 1  # today's booking comes after the delivered ones
        s.add(first)
        for n in range(count):
            start = T0 - timedelta(days=21 - 2 * n)
            b = Booking(clinic_id=tenant.clinic_id, course_id=world.course_id, patient_id=world.patient_id,
                        chair_id=first.chair_id, device_id=first.device_id, technician_id=first.technician_id,
                        start_at=start, end_at=start + timedelta(minutes=45), status="completed",
                        phase_name="acute", phase_kind="acute", sequence=n + 1, created_at=T0, updated_at=T0)
            s.add(b)
            s.flush()
            short = n == count - 1
            s.add(TreatmentSession(
                clinic_id=tenant.clinic_id, patient_id=world.patient_id, course_id=world.course_id,
                booking_id=b.id or 0, chair_id=first.chair_id, device_id=first.device_id, status="completed",
                session_number=n + 1, protocol_id="hf10_3000_iti26", frequency_hz=10.0, pulses_per_train=40,
                trains_planned=75, iti_s=26.0, intensity_pct_mt=120.0, mt_pct_mso=50.0, output_pct_mso=60,
                pulses_planned=3000, pulses_delivered=2960 if short else 3000, trains_delivered=75,
                live_pulses=2960 if short else 3000, technician_id=tenant.users["technician"],
                cpt_code="90867" if n == 0 else "90868", checked_in_at=start, started_at=start,
                ended_at=start + timedelta(minutes=38), updated_at=start, device_model="magstim-rapid2",
                device_serial="S-1", coil_model="D70", programmed={"intensity_a": 60, "frequency_hz": 10.0}))
