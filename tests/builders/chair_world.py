"""Several treatable patients booked on one chair, through the API as the clinic would do it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tests.builders.clinic import Clinic, book, ok, ready_clinic
from tests.builders.records import ALL_NO
from tests.conftest import T0, Tenant


@dataclass
class ChairWorld:
    clinic: Clinic
    chair_id: int
    courses: list[int]


def treatable_course(clinic: Clinic, protocol_id: str = "hf10_3000_iti26", device_id: int | None = None) -> int:
    """A self-pay patient with an active course, a clear screen and a fresh MT on ``device_id`` (the clinic's own
    chair's unit by default: an MT belongs to the stimulator it was measured on)."""
    pid = clinic.patient(payer=None)
    course = clinic.course(pid, protocol_id=protocol_id, intensity_pct_mt=120)
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status",
                         json={"status": "active", "reason": "screened and consented"}))
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/screenings", json={"course_id": course["id"], "answers": ALL_NO}),
       201)
    ok(clinic.tech.post(f"/api/v1/patients/{pid}/motor-thresholds", json={
        "determined_at": T0.replace(hour=13).isoformat(), "method": "emg_relative_frequency", "muscle": "APB",
        "value_pct_mso": 50, "device_id": device_id or clinic.device_id}), 201)
    return int(course["id"])


def chair_world(tenant: Tenant, patients: int, model: str = "magstim-rapid2") -> ChairWorld:
    clinic = ready_clinic(tenant)
    chair_id, device_id = clinic.add_chair(f"Chair {model}", model=model)
    return ChairWorld(clinic, chair_id, [treatable_course(clinic, device_id=device_id) for _ in range(patients)])


def booking_at(world: ChairWorld, course_id: int, at: datetime, **extra: object) -> int:
    return int(ok(book(world.clinic, course_id, at.isoformat(), chair_id=world.chair_id, **extra), 201)["id"])
