"""One capability source: a chair offers only what its device can be programmed with in the chair's mode;
booking, planning and start agree, and a change at the chair flags the future bookings it can no longer give."""

from __future__ import annotations

import pytest

from tests.builders.chair_world import booking_at, chair_world, treatable_course
from tests.builders.clinic import WRITE, book, ok, ready_clinic
from tests.builders.records import CHECKLIST_OK
from tests.conftest import T0, Tenant

SERIAL_BURST = "cannot be programmed for itbs_600 over serial in {mode} mode"


@pytest.mark.parametrize("mode", ["control", "record"])
def test_itbs_cannot_be_booked_or_planned_on_a_rapid2_chair(tenant: Tenant, mode: str) -> None:
    clinic = ready_clinic(tenant)  # its one chair has a Rapid²
    if mode != "control":
        ok(clinic.admin.patch(f"/api/v1/chairs/{clinic.chair_id}", json={"mode": mode, "reason": "console use"}))
    course = treatable_course(clinic, protocol_id="itbs_600")

    refused = book(clinic, course, T0.isoformat())
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "capability" and SERIAL_BURST.format(mode=mode) in refused.text

    chair = next(c for c in ok(clinic.admin.get("/api/v1/chairs")) if c["id"] == clinic.chair_id)
    assert "itbs_600" not in chair["protocols"] and "hf10_3000_iti26" in chair["protocols"]

    plan = ok(clinic.tech.post(f"/api/v1/courses/{course}/plan", json={"dry_run": True}))
    assert plan["proposed"] == [] and plan["unplaced"]
    assert all(any(r.startswith("capability") for r in u["reasons"]) for u in plan["unplaced"])


def test_a_device_swap_flags_the_chairs_future_bookings_and_start_refuses_with_the_same_reason(
        tenant: Tenant) -> None:
    world = chair_world(tenant, 0, model="magventure-x100")
    clinic = world.clinic
    course = treatable_course(clinic, protocol_id="itbs_600")
    booking = booking_at(world, course, T0)
    rapid = ok(clinic.admin.post("/api/v1/devices", json={"model": "magstim-rapid2", "serial": "S-swap",
                                                          "coil_model": "D70"}), 201)
    ok(clinic.admin.patch(f"/api/v1/chairs/{world.chair_id}",
                          json={"device_id": rapid["id"], "reason": "the X100 went for service"}))

    flags = ok(clinic.psych.get("/api/v1/review-flags", params={"kind": "capability"}))
    assert [f["booking_id"] for f in flags] == [booking]
    assert SERIAL_BURST.format(mode="control") in flags[0]["message"]

    # A mode change re-checks too: the booking is still undeliverable, and says so for the new mode.
    ok(clinic.admin.patch(f"/api/v1/chairs/{world.chair_id}", json={"mode": "record", "reason": "console use"}))
    flags = ok(clinic.psych.get("/api/v1/review-flags", params={"kind": "capability"}))
    assert sorted(SERIAL_BURST.format(mode=m) in f["message"] for f in flags for m in ("record",)) == [False, True]

    # An MT on the swapped-in unit, so the dose can be computed and only the capability refuses.
    patient_id = ok(clinic.tech.get(f"/api/v1/courses/{course}"))["patient_id"]
    ok(clinic.tech.post(f"/api/v1/patients/{patient_id}/motor-thresholds", headers=WRITE, json={
        "determined_at": T0.replace(hour=13).isoformat(), "method": "emg_relative_frequency", "muscle": "APB",
        "value_pct_mso": 50, "device_id": rapid["id"]}), 201)
    session = ok(clinic.tech.post(f"/api/v1/bookings/{booking}/check-in", headers=WRITE), 201)
    ok(clinic.tech.put(f"/api/v1/sessions/{session['id']}/checklist", json={"answers": CHECKLIST_OK}, headers=WRITE))
    preflight = ok(clinic.tech.get(f"/api/v1/sessions/{session['id']}/preflight"))
    assert preflight["dose_error"]["code"] == "capability", preflight
    refused = clinic.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE)
    assert refused.status_code == 409 and SERIAL_BURST.format(mode="record") in refused.text
