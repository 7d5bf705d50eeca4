"""The dose meets the safety table, the chair's own MT and the accelerated protocol's pause, through the API.

Each test is one finding of the medical director's review (docs/dose-safety.md): a 10 Hz course above the
table, an MT from another stimulator, a depth-adjusted intensity, low-frequency trains run together, and
the 50-minute pause of the accelerated protocol.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.models.courses import Course
from tests.agent.flow import check_in_and_ready, treatable_booking
from tests.builders.clinic import EXCEPTION, WRITE, book, ok, ready_clinic
from tests.builders.records import count
from tests.conftest import T0, Tenant
from tests.service.dose_helpers import deliver_commands, error


def _validate(tenant: Tenant, **params: Any) -> dict[str, Any]:
    return dict(ok(tenant.client("technician").post("/api/v1/protocols/validate", json=params, headers=WRITE)))


def test_a_10hz_course_above_the_table_is_refused_naming_the_cell_and_the_limit(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient(payer=None)
    body = {"patient_id": pid, "protocol_id": "hf10_3000_iti26", "eligibility_exception": EXCEPTION}
    at_130 = error(clinic.psych.post("/api/v1/courses", json=body | {"intensity_pct_mt": 130}))
    assert at_130["code"] == "dose_outside_table"
    assert "10 Hz / 130% MT" in at_130["message"] and "2.9 s" in at_130["message"]
    rules = {(v["rule"], v["limit"], v["value"]) for v in at_130["details"]["violations"]}
    assert ("ifcn_single_train", 2.9, 4) in rules
    at_140 = error(clinic.psych.post("/api/v1/courses", json=body | {"intensity_pct_mt": 140}))
    assert at_140["code"] == "dose_outside_table" and "≤ 130% MT" in at_140["message"]
    assert count(tenant, Course) == 0
    assert ok(clinic.psych.post("/api/v1/courses", json=body | {"intensity_pct_mt": 120}), 201)["dose_check"] == {
        "within_table": True, "whitelisted_protocol_id": "hf10_3000_iti26", "intensity_pct_rmt": 120,
        "violations": [], "override": None}


def test_the_dose_at_a_chair_uses_the_mt_of_its_own_stimulator_and_coil(tenant: Tenant) -> None:
    t = treatable_booking(tenant, mt_pct_mso=50)  # MT 50 on the chair's Rapid²
    other_device = ok(tenant.client("admin").post("/api/v1/devices", headers=WRITE, json={
        "model": "magstim-rapid2", "serial": "OTHER-2", "coil_model": "D70"}), 201)["id"]
    ok(t.tech.post(f"/api/v1/patients/{t.patient_id}/motor-thresholds", headers=WRITE, json={
        "determined_at": (T0.replace(hour=14)).isoformat(), "method": "emg_relative_frequency", "muscle": "APB",
        "value_pct_mso": 70, "device_id": other_device}), 201)  # newer, on another unit
    session = check_in_and_ready(t)
    pre = ok(t.tech.get(f"/api/v1/sessions/{session['id']}/preflight"))
    assert pre["mt"]["value"] == 50 and pre["dose"]["output_pct_mso"] == 60
    started = ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert (started["mt_pct_mso"], started["output_pct_mso"]) == (50, 60)
    assert [c["protocol"]["intensity_percent"] for c in deliver_commands(tenant)] == [60]


def test_no_mt_on_the_chairs_stimulator_blocks_and_names_the_device(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    admin = tenant.client("admin")
    spare = ok(admin.post("/api/v1/devices", headers=WRITE, json={
        "model": "magstim-rapid2", "serial": "SPARE-7", "coil_model": "D70"}), 201)
    ok(admin.patch(f"/api/v1/chairs/{t.chair_id}", headers=WRITE,
                   json={"device_id": spare["id"], "reason": "unit swapped for service"}))
    session = check_in_and_ready(t)
    refused = error(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    blocker = next(d for d in refused["details"] if d["code"] == "mt_missing_for_device")
    assert "SPARE-7" in blocker["message"] and "90869" in blocker["message"]
    assert deliver_commands(tenant) == []


def test_an_mt_is_recorded_on_a_device(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient(payer=None)
    missing = clinic.tech.post(f"/api/v1/patients/{pid}/motor-thresholds", headers=WRITE, json={
        "determined_at": T0.isoformat(), "method": "visual", "muscle": "APB", "value_pct_mso": 50})
    assert error(missing, 422)["details"][0]["field"] == "device_id"
    mt = ok(clinic.tech.post(f"/api/v1/patients/{pid}/motor-thresholds", headers=WRITE, json={
        "determined_at": T0.isoformat(), "method": "visual", "muscle": "APB", "value_pct_mso": 50,
        "device_id": clinic.device_id}), 201)
    assert (mt["device_id"], mt["coil"]) == (clinic.device_id, "D70")


def test_a_depth_adjusted_intensity_is_not_read_as_percent_of_resting_mt(tenant: Tenant) -> None:
    params = {"frequency_hz": 10, "intensity_pct_mt": 110, "train_duration_s": 4, "iti_s": 26, "trains": 75}
    assert _validate(tenant, **params)["ok"] is True  # 110% of resting MT: the 5 s cell
    adjusted = _validate(tenant, **params, intensity_basis="rMT_depth_adjusted")
    assert adjusted["ok"] is False and [v["rule"] for v in adjusted["violations"]] == ["ifcn_intensity_basis"]


def test_low_frequency_trains_with_no_pause_are_one_continuous_train(tenant: Tenant) -> None:
    ten = _validate(tenant, frequency_hz=1, intensity_pct_mt=110, train_duration_s=300, iti_s=0, trains=10)
    assert ten["ok"] is False
    (v,) = ten["violations"]
    assert (v["rule"], v["limit"], v["value"]) == ("ifcn_continuous", 1800, 3000)
    assert "3000 s of continuous stimulation" in v["message"] and "1 Hz / 110% MT" in v["message"]
    apart = _validate(tenant, frequency_hz=1, intensity_pct_mt=110, train_duration_s=300, iti_s=30, trains=10)
    assert apart == {"ok": True, "violations": []}


def test_the_accelerated_pause_runs_from_the_end_of_one_session(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    pid = clinic.patient(payer=None)
    course = clinic.course(pid, protocol_id="accelerated_itbs_1800", intensity_pct_mt=90)
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status", json={"status": "active", "reason": "consented"}))
    chair_id, _ = clinic.add_chair("Chair X100", model="magventure-x100")  # a unit that gives theta bursts
    first = T0.replace(hour=14)
    ok(book(clinic, course["id"], first.isoformat(), chair_id=chair_id), 201)
    # 50 min after the start is 40 min after a 10-min session ends: refused
    too_soon = error(book(clinic, course["id"], (first + timedelta(minutes=50)).isoformat(), chair_id=chair_id))
    assert too_soon["code"] == "interval" and "50 min after each session" in too_soon["message"]
    ok(book(clinic, course["id"], (first + timedelta(minutes=60)).isoformat(), chair_id=chair_id), 201)
