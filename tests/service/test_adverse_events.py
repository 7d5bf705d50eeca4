"""Adverse events: classification, snapshot, seizure serious by default, clearance, reporting due dates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from service.models.adverse_events import AdverseEvent, ReportingTask
from tests.builders.records import (
    WRITE,
    at,
    audit_rows,
    clinic_device,
    count,
    field_of,
    new_booking,
    new_course,
    new_patient,
)
from tests.conftest import T0, Tenant


def report(tenant: Tenant, pid: int, cid: int, role: str = "technician", **fields: Any) -> Any:
    body = {"course_id": cid, "term": "headache", "grade": 1, "onset_at": at(hours=-1)} | fields
    return tenant.client(role).post(f"/api/v1/patients/{pid}/adverse-events", json=body, headers=WRITE)


def test_vocabulary(tenant: Tenant) -> None:
    vocab = tenant.client("admin").get("/api/v1/adverse-event-vocabulary").json()
    assert "seizure" in {t["code"] for t in vocab["terms"]} and set(vocab["grades"]) == {"1", "2", "3", "4", "5"}


def test_a_mild_event_is_stored_with_the_parameters_in_force(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid, intensity_pct_mt=120.0)
    tenant.client("technician").post(f"/api/v1/patients/{pid}/motor-thresholds", json={
        "determined_at": at(hours=-3), "method": "visual", "muscle": "APB", "value_pct_mso": 50, "coil": "figure8",
        "device_id": clinic_device(tenant)})
    created = report(tenant, pid, cid)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["serious"] is False and body["blocks_course"] is False and body["reporting_tasks"] == []
    assert (body["mt_pct_mso"], body["intensity_pct_mt"], body["output_pct_mso"]) == (50, 120, 60)
    assert body["coil"] == "figure8" and body["site"] == "left DLPFC" and body["session_number"] is None
    assert [r.action for r in audit_rows(tenant, pid, "adverse_event")] == ["create"]


def test_a_seizure_is_serious_opens_a_task_due_in_ten_work_days_and_blocks_until_cleared(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    body = report(tenant, pid, cid, term="seizure", grade=3).json()
    assert body["serious"] and "important_medical_event" in body["serious_criteria"] and body["blocks_course"]
    task = body["reporting_tasks"][0]
    # Aware Monday 2026-11-23; Thanksgiving (26th) is skipped: 10 work days later is Tuesday 2026-12-08.
    assert task["due_on"] == date(2026, 12, 8).isoformat() and task["recipients"] == ["manufacturer"]
    assert task["form"] == "FDA 3500A" and task["mandatory"] is True
    queue = tenant.client("technician").get("/api/v1/reporting-tasks", params={"status": "open"}).json()
    assert task["id"] in [t["id"] for t in queue]

    url = f"/api/v1/adverse-events/{body['id']}/clearance"
    assert tenant.client("technician").post(url, json={"note": "fine now"}, headers=WRITE).status_code == 403
    cleared = tenant.client("psychiatrist").post(url, json={"note": "EEG normal; resume at 100% MT"})
    assert cleared.status_code == 200 and cleared.json()["blocks_course"] is False
    again = tenant.client("psychiatrist").post(url, json={"note": "EEG normal; resume at 100% MT"})
    assert again.status_code == 409 and field_of(again) == "status"
    done = tenant.client("technician").post(f"/api/v1/reporting-tasks/{task['id']}/completion",
                                            json={"note": "3500A sent to manufacturer, ref MW-123"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    actions = [(r.entity, r.action) for r in audit_rows(tenant, pid)]
    assert ("ae_reporting_task", "create") in actions and ("adverse_event", "clear") in actions


def test_amending_to_serious_reclassifies_and_opens_the_task(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    eid = report(tenant, pid, cid, term="syncope", grade=2).json()["id"]
    not_serious = tenant.client("psychiatrist").post(f"/api/v1/adverse-events/{eid}/clearance",
                                                     json={"note": "nothing to clear"})
    assert not_serious.status_code == 422 and field_of(not_serious) == "serious"
    amended = tenant.client("psychiatrist").patch(f"/api/v1/adverse-events/{eid}", json={
        "seriousness_criteria": ["hospitalisation"], "reason": "admitted overnight for observation"})
    assert amended.status_code == 200, amended.text
    assert amended.json()["serious"] is True and len(amended.json()["reporting_tasks"]) == 1
    assert audit_rows(tenant, pid, "adverse_event")[-1].reason == "admitted overnight for observation"


def test_onset_now_is_stamped_with_the_service_clock(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    created = report(tenant, pid, cid, onset_at="now")
    assert created.status_code == 201, created.text
    assert created.json()["onset_at"].startswith(T0.replace(tzinfo=None).isoformat())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"term": "nausea"}, "term"),
        ({"grade": 6}, "grade"),
        ({"seriousness_criteria": ["bad"]}, "seriousness_criteria"),
        ({"relatedness": "maybe"}, "relatedness"),
        ({"term": "other"}, "description"),
        ({"onset_at": at(days=1)}, "onset_at"),
        ({"onset_at": "later"}, "onset_at"),
        ({"aware_on": "2099-01-01"}, "aware_on"),
        ({"course_id": 2_000_000_000}, "course_id"),
    ],
)
def test_invalid_events_name_the_field_and_store_nothing(tenant: Tenant, fields: dict[str, Any], field: str) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    response = report(tenant, pid, cid, **fields)
    assert response.status_code == 422 and field_of(response) == field
    assert (count(tenant, AdverseEvent), count(tenant, ReportingTask)) == (0, 0)


def test_other_clinics_and_admins(tenant: Tenant, other_tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    eid = report(tenant, pid, cid).json()["id"]
    assert report(tenant, pid, cid, role="admin").status_code == 403
    outsider = other_tenant.client("psychiatrist")
    assert outsider.get(f"/api/v1/patients/{pid}/adverse-events").status_code == 404
    assert outsider.post(f"/api/v1/adverse-events/{eid}/clearance", json={"note": "probing here"}).status_code == 404
    assert tenant.client("psychiatrist").get(f"/api/v1/patients/{pid}/adverse-events").json()[0]["id"] == eid


def test_a_booking_fills_the_session_number_and_coil(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    booking_id = new_booking(tenant, pid, cid, T0 - timedelta(hours=2), sequence=7)
    body = report(tenant, pid, cid, booking_id=booking_id).json()
    assert (body["session_number"], body["coil"], body["booking_id"]) == (7, "D70", booking_id)
    other_course = new_course(tenant, pid)
    wrong = report(tenant, pid, other_course, booking_id=booking_id)
    assert wrong.status_code == 422 and field_of(wrong) == "booking_id"


def test_a_california_clinics_report_is_due_by_federal_work_days_not_state_holidays(tenant: Tenant) -> None:
    """21 CFR 803.3: work days skip Federal holidays only; California's day after Thanksgiving is a work day."""
    admin = tenant.client("admin")
    hours = [{"weekday": d, "open": "08:00", "close": "18:00"} for d in range(5)]
    r = admin.put("/api/v1/calendar", json={"reason": "clinic in Los Angeles", "hours": hours, "country": "US",
                                            "subdivision": "CA"}, headers=WRITE)
    assert r.status_code == 200 and r.json()["subdivision"] == "CA", r.text
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    task = report(tenant, pid, cid, term="seizure", grade=3).json()["reporting_tasks"][0]
    # Aware Monday 2026-11-23: Thanksgiving (26th) is federal and skipped, Friday the 27th (a California
    # holiday) is counted, so 10 work days end on Tuesday 2026-12-08, not Wednesday the 9th.
    assert task["due_on"] == date(2026, 12, 8).isoformat(), task
