"""``blockers_for`` and GET .../blockers: every blocker reachable end to end, and cleared as the clinic clears it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, update

from service.blockers.service import blockers_for
from service.core.db import session_scope
from service.models.authorizations import Authorization, AuthorizationUnit
from service.models.patients import Patient
from tests.builders.records import (
    ALL_NO,
    CHECKLIST_OK,
    TODAY,
    WRITE,
    at,
    audit_rows,
    clinic_device,
    field_of,
    new_booking,
    new_course,
    new_patient,
)
from tests.conftest import T0, Tenant

PHQ9_ITEM9 = [2, 2, 2, 2, 1, 1, 1, 1, 1, None]


def codes(tenant: Tenant, pid: int, cid: int | None = None) -> set[str]:
    params = {"course_id": cid} if cid else {}
    response = tenant.client("technician").get(f"/api/v1/patients/{pid}/blockers", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["blocked"] == bool(body["blockers"]) and all(b["message"] for b in body["blockers"])
    return {b["code"] for b in body["blockers"]}


def post(tenant: Tenant, url: str, body: dict[str, Any], role: str = "technician") -> dict[str, Any]:
    response = tenant.client(role).post(url, json=body, headers=WRITE)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def ready(tenant: Tenant) -> tuple[int, int]:
    """A self-pay patient with an active course, a clear screen and a fresh MT: nothing blocks but the checklist."""
    pid = new_patient(tenant, payer=None)
    cid = new_course(tenant, pid)
    post(tenant, f"/api/v1/patients/{pid}/screenings", {"course_id": cid, "answers": ALL_NO})
    mt(tenant, pid, at(hours=-1))
    return pid, cid


def mt(tenant: Tenant, pid: int, when: str) -> dict[str, Any]:
    body = {"determined_at": when, "method": "emg_relative_frequency", "muscle": "APB", "value_pct_mso": 55,
            "device_id": clinic_device(tenant)}
    return post(tenant, f"/api/v1/patients/{pid}/motor-thresholds", body)


def test_a_ready_patient_is_blocked_only_by_the_unanswered_checklist(tenant: Tenant) -> None:
    pid, cid = ready(tenant)
    assert codes(tenant, pid, cid) == {"checklist_incomplete"}
    with session_scope(tenant.app.state.engine) as session:
        assert blockers_for(session, tenant.clinic_id, pid, cid, TODAY, CHECKLIST_OK, now=T0) == []
        failed = blockers_for(session, tenant.clinic_id, pid, cid, TODAY, CHECKLIST_OK | {"hearing_protection": "no"},
                              now=T0)
    assert [b.code for b in failed] == ["checklist_failed"]
    assert audit_rows(tenant, pid)[-1].entity == "blockers"


def test_screening_missing_then_done(tenant: Tenant) -> None:
    pid = new_patient(tenant, payer=None)
    cid = new_course(tenant, pid)
    assert "screening_missing" in codes(tenant, pid, cid)
    post(tenant, f"/api/v1/patients/{pid}/screenings", {"course_id": cid, "answers": ALL_NO})
    assert "screening_missing" not in codes(tenant, pid, cid)


def test_absolute_contraindication_blocks(tenant: Tenant) -> None:
    pid, cid = ready(tenant)
    post(tenant, f"/api/v1/patients/{pid}/screenings",
         {"course_id": cid, "answers": ALL_NO | {"implant_within_30cm": "yes"}})
    assert "screening_absolute_contraindication" in codes(tenant, pid, cid)


def test_uncleared_relative_then_cleared(tenant: Tenant) -> None:
    pid, cid = ready(tenant)
    sid = post(tenant, f"/api/v1/patients/{pid}/screenings",
               {"course_id": cid, "answers": ALL_NO | {"bipolar_history": "yes"}})["id"]
    assert "screening_uncleared" in codes(tenant, pid, cid)
    post(tenant, f"/api/v1/screenings/{sid}/clearances",
         {"item_id": "bipolar_history", "reason": "bipolar II, stable on lithium 2 years; mood monitoring weekly"},
         role="psychiatrist")
    assert codes(tenant, pid, cid) == {"checklist_incomplete"}


def test_retreatment_needs_its_own_screen(tenant: Tenant) -> None:
    pid, first = ready(tenant)
    second = new_course(tenant, pid, kind="retreatment")
    assert "screening_stale" in codes(tenant, pid, second)
    post(tenant, f"/api/v1/patients/{pid}/screenings", {"course_id": second, "answers": ALL_NO})
    assert "screening_stale" not in codes(tenant, pid, second)


def test_serious_adverse_event_then_cleared(tenant: Tenant) -> None:
    pid, cid = ready(tenant)
    ae = post(tenant, f"/api/v1/patients/{pid}/adverse-events",
              {"course_id": cid, "term": "seizure", "grade": 3, "onset_at": at(hours=-2)})
    assert ae["serious"] and "adverse_event_uncleared" in codes(tenant, pid, cid)
    post(tenant, f"/api/v1/adverse-events/{ae['id']}/clearance",
         {"note": "EEG normal, neurology consult: continue at 110% MT"}, role="psychiatrist")
    assert "adverse_event_uncleared" not in codes(tenant, pid, cid)


def test_open_suicide_alert_then_responded(tenant: Tenant) -> None:
    pid, cid = ready(tenant)
    a = post(tenant, f"/api/v1/patients/{pid}/assessments",
             {"instrument": "PHQ-9", "administered_at": at(hours=-1), "items": PHQ9_ITEM9, "course_id": cid})
    assert "suicide_alert_open" in codes(tenant, pid, cid)
    post(tenant, f"/api/v1/alerts/{a['alerts'][0]['id']}/response",
         {"note": "Passive thoughts only, no plan; safety plan updated"}, role="psychiatrist")
    assert "suicide_alert_open" not in codes(tenant, pid, cid)


def test_stale_motor_threshold_then_redetermined(tenant: Tenant) -> None:
    pid = new_patient(tenant, payer=None)
    cid = new_course(tenant, pid)
    post(tenant, f"/api/v1/patients/{pid}/screenings", {"course_id": cid, "answers": ALL_NO})
    assert "mt_stale" in codes(tenant, pid, cid)  # none on record
    mt(tenant, pid, at(days=-8))
    assert "mt_stale" in codes(tenant, pid, cid)  # 8 days old
    mt(tenant, pid, at(hours=-1))
    assert "mt_stale" not in codes(tenant, pid, cid)


def test_cns_active_medication_change_makes_mt_stale(tenant: Tenant) -> None:
    pid = new_patient(tenant, payer=None)
    cid = new_course(tenant, pid)
    post(tenant, f"/api/v1/patients/{pid}/screenings",
         {"course_id": cid, "answers": ALL_NO, "completed_on": (TODAY - timedelta(days=3)).isoformat()})
    mt(tenant, pid, at(days=-3))
    assert codes(tenant, pid, cid) == {"checklist_incomplete"}
    post(tenant, f"/api/v1/patients/{pid}/medication-changes",
         {"drug": "lorazepam", "change": "start", "changed_on": (TODAY - timedelta(days=1)).isoformat()})
    assert {"mt_stale", "screening_stale"} <= codes(tenant, pid, cid)


def test_course_not_active_and_authorization_missing(tenant: Tenant) -> None:
    pid = new_patient(tenant, payer="Aetna")
    cid = new_course(tenant, pid, status="planned")
    found = codes(tenant, pid, cid)
    assert {"course_not_active", "authorization_missing"} <= found


def test_default_course_and_cross_clinic(tenant: Tenant, other_tenant: Tenant) -> None:
    pid, cid = ready(tenant)
    body = tenant.client("psychiatrist").get(f"/api/v1/patients/{pid}/blockers").json()
    assert body["course_id"] == cid and body["today"] == TODAY.isoformat()
    outsider = other_tenant.client("psychiatrist")
    assert outsider.get(f"/api/v1/patients/{pid}/blockers").status_code == 404
    other_pid = new_patient(tenant, payer=None)
    wrong = tenant.client("psychiatrist").get(f"/api/v1/patients/{other_pid}/blockers", params={"course_id": cid})
    assert wrong.status_code == 404
    none_open = tenant.client("psychiatrist").get(f"/api/v1/patients/{other_pid}/blockers")
    assert none_open.status_code == 422 and none_open.json()["error"]["details"][0]["field"] == "course_id"
    assert tenant.client("admin").get(f"/api/v1/patients/{pid}/blockers").status_code == 403


def test_authorization_exhausted_and_daily_limit_from_the_booking_tables(tenant: Tenant) -> None:
    pid, cid = ready(tenant)
    with session_scope(tenant.app.state.engine) as session:
        session.exec(update(Patient).where(col(Patient.id) == pid).values(payer="Aetna"))
        auth = Authorization(clinic_id=tenant.clinic_id, patient_id=pid, course_id=cid, payer="Aetna",
                             number=f"PA-{pid}", start_date=TODAY - timedelta(days=5),
                             end_date=TODAY + timedelta(days=60), created_at=T0, updated_at=T0)
        session.add(auth)
        session.flush()
        session.add(AuthorizationUnit(authorization_id=auth.id or 0, cpt="90867", units=1))
        auth_id = auth.id or 0
    assert "authorization_exhausted" not in codes(tenant, pid, cid)
    new_booking(tenant, pid, cid, T0 - timedelta(hours=3), authorization_id=auth_id)
    found = codes(tenant, pid, cid)
    assert {"authorization_exhausted", "protocol_daily_limit"} <= found


def test_a_course_with_no_eligibility_on_record_blocks_until_the_psychiatrist_documents_why(tenant: Tenant) -> None:
    """A course ordered before eligibility gated ordering: nothing says why it is treated, so it does not start."""
    pid = new_patient(tenant, payer=None)
    cid = new_course(tenant, pid, eligibility_exception=None, eligibility_exception_reason=None)
    post(tenant, f"/api/v1/patients/{pid}/screenings", {"course_id": cid, "answers": ALL_NO})
    mt(tenant, pid, at(hours=-1))
    assert codes(tenant, pid, cid) == {"eligibility_undocumented", "checklist_incomplete"}
    url = f"/api/v1/courses/{cid}/eligibility-exception"
    body = {"basis": "self_pay", "reason": "self-pay; ordered before eligibility was recorded"}
    assert tenant.client("technician").post(url, json=body, headers=WRITE).status_code == 403
    course = post(tenant, url, body, role="psychiatrist")
    assert course["eligibility_exception"] == "self_pay" and course["eligibility_exception_reason"] == body["reason"]
    assert codes(tenant, pid, cid) == {"checklist_incomplete"}
    again = tenant.client("psychiatrist").post(url, json=body, headers=WRITE)
    assert again.status_code == 409 and field_of(again) == "eligibility_exception"
