"""Safety screening: answers → absolute/relative/none, psychiatrist clearances, re-screen after changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import Response

from service.models.screenings import Screening, ScreeningClearance
from tests.builders.records import ALL_NO, TODAY, WRITE, audit_rows, count, field_of, new_course, new_patient
from tests.conftest import Tenant


def screen(tenant: Tenant, pid: int, cid: int, role: str = "technician", **answers: str) -> Response:
    body: dict[str, Any] = {"course_id": cid, "answers": ALL_NO | answers}
    return tenant.client(role).post(f"/api/v1/patients/{pid}/screenings", json=body, headers=WRITE)


def test_questionnaire_is_versioned_data(tenant: Tenant) -> None:
    q = tenant.client("admin").get("/api/v1/screening-questionnaire").json()
    assert q["version"] and {i["id"] for i in q["items"]} == set(ALL_NO)


def test_all_no_is_cleared_and_audited(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    body = screen(tenant, pid, cid).json()
    assert body["status"] == "cleared" and body["current"] and body["absolute"] == [] and body["relative"] == []
    assert body["completed_on"] == TODAY.isoformat()
    assert [(r.entity, r.action) for r in audit_rows(tenant, pid, "screening")] == [("screening", "create")]


def test_absolute_finding_cannot_be_cleared(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    body = screen(tenant, pid, cid, cochlear_implant="yes").json()
    assert body["status"] == "absolute_contraindication" and body["absolute"][0]["item_id"] == "cochlear_implant"
    refused = tenant.client("psychiatrist").post(f"/api/v1/screenings/{body['id']}/clearances",
                                                 json={"item_id": "cochlear_implant", "reason": "looks fine to me"})
    assert refused.status_code == 422 and field_of(refused) == "item_id"
    assert count(tenant, ScreeningClearance) == 0


def test_relative_finding_is_cleared_by_a_psychiatrist_with_a_reason(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    body = screen(tenant, pid, cid, seizure_history="yes").json()
    assert body["status"] == "needs_clearance" and body["relative"][0]["cleared"] is False
    url = f"/api/v1/screenings/{body['id']}/clearances"
    clearance = {"item_id": "seizure_history", "reason": "single febrile seizure aged 3, none since"}
    assert tenant.client("technician").post(url, json=clearance, headers=WRITE).status_code == 403
    cleared = tenant.client("psychiatrist").post(url, json=clearance, headers=WRITE)
    assert cleared.status_code == 201, cleared.text
    assert cleared.json()["status"] == "cleared" and cleared.json()["clearances"][0]["reason"] == clearance["reason"]
    again = tenant.client("psychiatrist").post(url, json=clearance, headers=WRITE)
    assert again.status_code == 409 and field_of(again) == "item_id"
    not_a_finding = tenant.client("psychiatrist").post(url, json={"item_id": "pregnancy", "reason": "not relevant"})
    assert not_a_finding.status_code == 422 and field_of(not_a_finding) == "item_id"
    actions = [(r.entity, r.action) for r in audit_rows(tenant, pid)]
    assert ("screening_clearance", "create") in actions and ("screening", "update") in actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": ALL_NO | {"pregnancy": "maybe"}}, "answers.pregnancy"),
        ({"answers": {"tattoo": "yes"}}, "answers.tattoo"),
        ({"questionnaire_version": "1999.1"}, "questionnaire_version"),
        ({"completed_on": "2099-01-01"}, "completed_on"),
        ({"course_id": 2_000_000_000}, "course_id"),
    ],
)
def test_invalid_screen_names_the_field_and_stores_nothing(tenant: Tenant, body: dict[str, Any], field: str) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    payload = {"course_id": cid, "answers": ALL_NO} | body
    response = tenant.client("technician").post(f"/api/v1/patients/{pid}/screenings", json=payload)
    assert response.status_code == 422 and field_of(response) == field
    assert count(tenant, Screening) == 0


def test_a_medication_change_after_the_screen_makes_it_stale(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    body = {"course_id": cid, "answers": ALL_NO, "completed_on": yesterday}
    sid = tenant.client("technician").post(f"/api/v1/patients/{pid}/screenings", json=body).json()["id"]
    assert tenant.client("technician").get(f"/api/v1/screenings/{sid}").json()["current"] is True
    change = tenant.client("technician").post(f"/api/v1/patients/{pid}/medication-changes", json={
        "drug": "sertraline", "change": "dose_change", "changed_on": TODAY.isoformat(), "new_daily_dose": 100})
    assert change.status_code == 201, change.text
    read = tenant.client("technician").get(f"/api/v1/screenings/{sid}").json()
    assert read["current"] is False and "medications changed" in read["currency_reasons"][0]
    assert audit_rows(tenant, pid)[-1].action == "read"


def test_other_clinics_get_404(tenant: Tenant, other_tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    sid = screen(tenant, pid, cid).json()["id"]
    outsider = other_tenant.client("psychiatrist")
    assert outsider.get(f"/api/v1/screenings/{sid}").status_code == 404
    assert outsider.post(f"/api/v1/screenings/{sid}/clearances",
                         json={"item_id": "syncope", "reason": "probing"}).status_code == 404
    assert screen(other_tenant, pid, cid).status_code == 404


@pytest.mark.parametrize("item", ["implant_within_30cm", "cochlear_implant", "neurostimulator", "shunt"])
def test_unsure_about_an_absolute_item_blocks_until_a_clinician_records_the_checked_answer(
        tenant: Tenant, item: str) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    body = screen(tenant, pid, cid, **{item: "unsure"}).json()
    assert body["status"] == "absolute_contraindication" and body["absolute"][0]["unsure"] is True, body
    blockers = tenant.client("technician").get(f"/api/v1/patients/{pid}/blockers", params={"course_id": cid}).json()
    assert "screening_absolute_contraindication" in {b["code"] for b in blockers["blockers"]}
    # A note cannot clear it, not even the psychiatrist's.
    refused = tenant.client("psychiatrist").post(f"/api/v1/screenings/{body['id']}/clearances",
                                                 json={"item_id": item, "reason": "patient thinks it is fine"})
    assert refused.status_code == 422 and field_of(refused) == "item_id" and "checked" in refused.text
    assert count(tenant, ScreeningClearance) == 0
    url = f"/api/v1/screenings/{body['id']}/checks"
    not_unsure = tenant.client("technician").post(url, json={"item_id": "pregnancy", "answer": "no",
                                                             "how_checked": "asked again"}, headers=WRITE)
    assert not_unsure.status_code == 422 and field_of(not_unsure) == "item_id"
    checked = tenant.client("technician").post(url, json={"item_id": item, "answer": "no",
                                                          "how_checked": "CT report of 2024 reviewed"}, headers=WRITE)
    assert checked.status_code == 201, checked.text
    assert checked.json()["status"] == "cleared" and checked.json()["checks"][0]["answer"] == "no"
    again = tenant.client("technician").post(url, json={"item_id": item, "answer": "yes",
                                                        "how_checked": "changed my mind"}, headers=WRITE)
    assert again.status_code == 409 and field_of(again) == "item_id"
    blockers = tenant.client("technician").get(f"/api/v1/patients/{pid}/blockers", params={"course_id": cid}).json()
    assert not {b["code"] for b in blockers["blockers"]} & {"screening_absolute_contraindication",
                                                             "screening_uncleared"}
    assert [r.entity for r in audit_rows(tenant, pid) if r.entity == "screening_check"] == ["screening_check"]


def test_a_checked_yes_to_an_unsure_absolute_item_stays_an_absolute_contraindication(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    sid = screen(tenant, pid, cid, shunt="unsure").json()["id"]
    checked = tenant.client("psychiatrist").post(f"/api/v1/screenings/{sid}/checks", json={
        "item_id": "shunt", "answer": "yes", "how_checked": "neurosurgery letter: VP shunt in place"})
    assert checked.status_code == 201 and checked.json()["status"] == "absolute_contraindication"
    assert checked.json()["absolute"][0]["unsure"] is False
