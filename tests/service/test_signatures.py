"""E-signatures: username and password at the first signing, printed name/time/meaning/hash stored, amendment
supersedes, clinics apart."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session, select

from service.models.auth import LoginAttempt
from service.models.signatures import Signature
from tests.builders.records import WRITE, audit_rows, new_course, new_patient
from tests.conftest import PASSWORD, Tenant


def _review(tenant: Tenant, course_id: int, **extra: object) -> dict[str, Any]:
    psych = tenant.client("psychiatrist")
    body = {"kind": "weekly", "week": 1, "note": "Tolerating well, PHQ-9 down 4 points."} | extra
    r = psych.post(f"/api/v1/courses/{course_id}/reviews", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _sign(tenant: Tenant, review_id: int, password: str = PASSWORD, meaning: str = "reviewed",
          role: str = "psychiatrist") -> Any:
    return tenant.client(role).post("/api/v1/signatures", json={
        "subject": "course_review", "subject_id": review_id, "meaning": meaning, "password": password,
        "username": tenant.usernames[role]})


def test_signing_stores_name_time_meaning_and_hash_of_the_exact_version(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    review = _review(tenant, new_course(tenant, pid))
    r = _sign(tenant, review["id"])
    assert r.status_code == 201, r.text
    sig = r.json()
    assert sig["printed_name"] == f"psychiatrist {tenant.name.split()[-1]}"
    assert sig["meaning"] == "reviewed" and sig["subject_version"] == 1 and sig["verified"] == "valid"
    assert sig["signed_at"].startswith("2026-11-23T14:00")
    with Session(tenant.app.state.engine) as s:
        row = s.exec(select(Signature).where(Signature.id == sig["id"])).one()
    # The stored text is canonical JSON of the record, and the hash is its SHA-256.
    assert hashlib.sha256(row.record_json.encode()).hexdigest() == sig["record_sha256"]
    signed = json.loads(row.record_json)
    assert signed["note"] == review["note"] and signed["version"] == 1
    shown = tenant.client("technician").get(f"/api/v1/course-reviews/{review['id']}").json()
    assert [s["printed_name"] for s in shown["signatures"]] == [sig["printed_name"]]
    assert [a.action for a in audit_rows(tenant, pid, "e_signature")] == ["sign"]


def test_wrong_password_signs_nothing_and_counts_towards_lockout(tenant: Tenant) -> None:
    review = _review(tenant, new_course(tenant, new_patient(tenant)))
    r = _sign(tenant, review["id"], password="not my password")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "password"
    with Session(tenant.app.state.engine) as s:
        assert s.exec(select(Signature).where(Signature.subject_id == review["id"],
                                              Signature.subject == "course_review")).all() == []
        failures = s.exec(select(LoginAttempt).where(LoginAttempt.username == tenant.usernames["psychiatrist"],
                                                     LoginAttempt.succeeded == False)).all()  # noqa: E712
    assert len(failures) == 1


def test_only_psychiatrists_sign_and_meanings_fit_the_record(tenant: Tenant) -> None:
    review = _review(tenant, new_course(tenant, new_patient(tenant)))
    assert _sign(tenant, review["id"], role="technician").status_code == 403
    bad = _sign(tenant, review["id"], meaning="cleared")
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "meaning"
    assert _sign(tenant, review["id"]).status_code == 201
    again = _sign(tenant, review["id"])
    assert again.status_code == 409


def test_amending_a_signed_review_supersedes_the_signature(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    review = _review(tenant, new_course(tenant, pid))
    first = _sign(tenant, review["id"]).json()
    psych = tenant.client("psychiatrist")
    amended = psych.patch(f"/api/v1/course-reviews/{review['id']}",
                          json={"note": "Corrected: PHQ-9 down 6 points.", "reason": "wrong score transcribed"})
    assert amended.status_code == 200, amended.text
    body = amended.json()
    assert body["version"] == 2
    assert [(s["id"], s["status"], s["verified"]) for s in body["signatures"]] == [
        (first["id"], "superseded", "superseded")]
    assert body["signatures"][0]["superseded_by_version"] == 2
    # The new version is signed on its own; the old signature still shows the old text it signed.
    second = _sign(tenant, review["id"]).json()
    assert second["subject_version"] == 2 and second["verified"] == "valid"
    assert second["record_sha256"] != first["record_sha256"]
    with Session(tenant.app.state.engine) as s:
        old = s.exec(select(Signature).where(Signature.id == first["id"])).one()
    assert "down 4 points" in json.loads(old.record_json)["note"]
    amend_row = [a for a in audit_rows(tenant, pid, "course_review") if a.action == "amend"][0]
    assert amend_row.reason == "wrong score transcribed" and "down 4" in (amend_row.old_values or {})["note"]


def test_a_record_changed_behind_the_signature_no_longer_verifies(tenant: Tenant) -> None:
    from service.core.db import session_scope
    from service.models.signatures import CourseReview

    review = _review(tenant, new_course(tenant, new_patient(tenant)))
    _sign(tenant, review["id"])
    with session_scope(tenant.app.state.engine) as s:
        row = s.get(CourseReview, review["id"])
        assert row is not None
        row.note = "quietly edited"
        s.add(row)
    shown = tenant.client("psychiatrist").get(f"/api/v1/course-reviews/{review['id']}").json()
    assert shown["signatures"][0]["verified"] == "mismatch"


def test_another_clinic_cannot_see_or_sign_the_record(tenant: Tenant, other_tenant: Tenant) -> None:
    review = _review(tenant, new_course(tenant, new_patient(tenant)))
    assert _sign(other_tenant, review["id"]).status_code == 404
    assert other_tenant.client("psychiatrist").get(f"/api/v1/course-reviews/{review['id']}").status_code == 404
    listing = other_tenant.client("psychiatrist").get(
        "/api/v1/signatures", params={"subject": "course_review", "subject_id": review["id"]})
    assert listing.status_code == 404


def test_a_screening_clearance_can_be_signed_as_cleared(tenant: Tenant) -> None:
    from service.core.db import session_scope
    from service.models.screenings import Screening, ScreeningClearance
    from tests.conftest import T0

    pid = new_patient(tenant)
    course_id = new_course(tenant, pid)
    with session_scope(tenant.app.state.engine) as s:
        screening = Screening(clinic_id=tenant.clinic_id, patient_id=pid, course_id=course_id,
                              questionnaire_version="v1", answers={}, completed_on=T0.date(), status="cleared",
                              screened_by=tenant.users["technician"], created_at=T0, updated_at=T0)
        s.add(screening)
        s.flush()
        clearance = ScreeningClearance(clinic_id=tenant.clinic_id, screening_id=screening.id or 0,
                                       item_id="migraine", reason="stable, reviewed", cleared_at=T0,
                                       cleared_by=tenant.users["psychiatrist"], cleared_by_name="psychiatrist")
        s.add(clearance)
        s.flush()
        clearance_id = clearance.id
    r = tenant.client("psychiatrist").post("/api/v1/signatures", json={
        "subject": "screening_clearance", "subject_id": clearance_id, "meaning": "cleared", "password": PASSWORD,
        "username": tenant.usernames["psychiatrist"]})
    assert r.status_code == 201, r.text
    assert r.json()["verified"] == "valid"


def test_cookie_signing_needs_the_csrf_header(tenant: Tenant) -> None:
    review = _review(tenant, new_course(tenant, new_patient(tenant)))
    client = tenant.anonymous()
    login = client.post("/login", data={"username": tenant.usernames["psychiatrist"], "password": PASSWORD},
                        follow_redirects=False)
    assert login.status_code == 303
    body = {"subject": "course_review", "subject_id": review["id"], "meaning": "reviewed", "password": PASSWORD,
            "username": tenant.usernames["psychiatrist"]}
    assert client.post("/api/v1/signatures", json=body).status_code == 403
    assert client.post("/api/v1/signatures", json=body, headers=WRITE).status_code == 201


def test_amending_a_signed_adverse_event_supersedes_its_signature(tenant: Tenant) -> None:
    from datetime import timedelta

    from tests.conftest import T0

    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    psych = tenant.client("psychiatrist")
    event = psych.post(f"/api/v1/patients/{pid}/adverse-events", json={
        "course_id": cid, "term": "headache", "grade": 1, "onset_at": (T0 - timedelta(hours=1)).isoformat()}).json()
    signed = psych.post("/api/v1/signatures", json={"subject": "adverse_event", "subject_id": event["id"],
                                                    "meaning": "reviewed", "password": PASSWORD,
                                                    "username": tenant.usernames["psychiatrist"]})
    assert signed.status_code == 201, signed.text
    amended = psych.patch(f"/api/v1/adverse-events/{event['id']}", json={"grade": 2, "reason": "worse by evening"})
    assert amended.status_code == 200, amended.text
    sigs = psych.get("/api/v1/signatures", params={"subject": "adverse_event", "subject_id": event["id"]}).json()
    assert [s["status"] for s in sigs] == ["superseded"]
