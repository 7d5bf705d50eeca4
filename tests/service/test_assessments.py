"""Assessments: validation names the field and stores nothing; scores against the course baseline; alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import Response

from service.core.db import session_scope
from service.models.assessments import Assessment, SuicideAlert
from service.models.bookings import Booking
from service.models.sessions import SessionStatus, TreatmentSession
from tests.builders.records import (
    TODAY,
    WRITE,
    add,
    at,
    audit_rows,
    count,
    field_of,
    moment,
    new_booking,
    new_course,
    new_patient,
)
from tests.conftest import T0, Tenant

URL = "/api/v1/patients/{}/assessments"


def phq9(total_first_eight: int, item9: int = 0) -> list[int | None]:
    """PHQ-9 answers whose first eight items add up to ``total_first_eight`` (0–24), plus item 9 and difficulty."""
    items = [min(3, max(0, total_first_eight - 3 * i)) for i in range(8)]
    return [*items, item9, None]


def post(tenant: Tenant, pid: int, role: str = "technician", **body: Any) -> Response:
    payload = {"instrument": "PHQ-9", "administered_at": at(hours=-1), "items": phq9(10)} | body
    return tenant.client(role).post(URL.format(pid), json=payload, headers=WRITE)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [*phq9(10)[:8], 4, None]}, "items[8]"),
        ({"items": [1, 2, 3]}, "items"),
        ({"instrument": "BDI-II"}, "instrument"),
        ({"administered_at": at(days=1)}, "administered_at"),
        ({"administered_at": "2026-11-23T09:00:00"}, "administered_at"),  # no UTC offset
        ({"course_id": 2_000_000_000}, "course_id"),
    ],
)
def test_invalid_input_names_the_field_and_stores_nothing(tenant: Tenant, body: dict[str, Any], field: str) -> None:
    pid = new_patient(tenant)
    before = count(tenant, Assessment), len(audit_rows(tenant, pid))
    response = post(tenant, pid, **body)
    assert response.status_code == 422, response.text
    assert field_of(response) == field
    assert (count(tenant, Assessment), len(audit_rows(tenant, pid))) == before


def test_scored_against_the_course_baseline_with_response_and_remission(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    first = post(tenant, pid, items=phq9(20), administered_at=at(days=-2), course_id=cid).json()
    assert first["total"] == 20 and first["severity"] == "severe" and first["baseline_total"] is None
    assert first["total_code"] == "44261-6" and first["item_codes"][0]["loinc"]
    half = post(tenant, pid, items=phq9(10), course_id=cid).json()
    assert half["baseline_total"] == 20 and half["baseline_assessment_id"] == first["id"]
    assert half["percent_change"] == -50.0 and half["response"] is True and half["remission"] is False
    assert any("response met" in r for r in half["reasons"])
    low = post(tenant, pid, items=phq9(4), course_id=cid).json()
    assert low["severity"] == "minimal" and low["remission"] is True and low["baseline_total"] == 20


def test_a_pre_course_score_of_the_course_is_the_baseline(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    cid = new_course(tenant, pid)
    post(tenant, pid, items=phq9(18), administered_at=at(days=-5), course_id=cid)  # intake, recorded for the course
    later = post(tenant, pid, items=phq9(12), course_id=cid).json()
    assert later["baseline_total"] == 18 and later["response"] is False


def test_a_score_of_another_course_or_of_no_course_is_never_the_baseline(tenant: Tenant) -> None:
    """The second course's baseline is its own first score, not the first course's or an unlinked one."""
    pid = new_patient(tenant)
    first = new_course(tenant, pid, status="completed")
    post(tenant, pid, items=phq9(24), administered_at=at(days=-20), course_id=first)
    post(tenant, pid, items=phq9(22), administered_at=at(days=-3))  # linked to no course
    second = new_course(tenant, pid)
    own = post(tenant, pid, items=phq9(20), administered_at=at(days=-1), course_id=second).json()
    assert own["baseline_total"] is None  # it is the baseline
    half = post(tenant, pid, items=phq9(10), course_id=second).json()
    assert half["baseline_assessment_id"] == own["id"] and half["percent_change"] == -50.0 and half["response"]


def test_item9_opens_an_alert_until_a_psychiatrist_responds(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    created = post(tenant, pid, items=phq9(12, item9=1)).json()
    assert [a["item_number"] for a in created["alerts"]] == [9]
    alert_id = created["alerts"][0]["id"]
    queue = tenant.client("psychiatrist").get("/api/v1/alerts", params={"status": "open"}).json()
    assert alert_id in [a["id"] for a in queue]

    refused = tenant.client("technician").post(f"/api/v1/alerts/{alert_id}/response", json={"note": "seen"})
    assert refused.status_code == 403
    short = tenant.client("psychiatrist").post(f"/api/v1/alerts/{alert_id}/response", json={"note": "ok"})
    assert short.status_code == 422 and field_of(short) == "note"
    done = tenant.client("psychiatrist").post(f"/api/v1/alerts/{alert_id}/response",
                                              json={"note": "Assessed: passive ideation, safety plan reviewed"})
    assert done.status_code == 200 and done.json()["status"] == "responded"
    again = tenant.client("psychiatrist").post(f"/api/v1/alerts/{alert_id}/response", json={"note": "once more"})
    assert again.status_code == 409 and field_of(again) == "status"
    assert count(tenant, SuicideAlert, status="open", patient_id=pid) == 0
    actions = [(r.entity, r.action) for r in audit_rows(tenant, pid)]
    assert ("assessment", "create") in actions and ("suicide_alert", "create") in actions
    assert ("suicide_alert", "respond") in actions


def test_item9_zero_raises_no_alert_and_other_scales_use_their_own_items(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    assert post(tenant, pid, items=phq9(12, item9=0)).json()["alerts"] == []
    hamd = post(tenant, pid, instrument="HAM-D17", items=[0] * 17).json()
    assert hamd["total"] == 0 and hamd["remission"] is True and hamd["alerts"] == []


def test_reads_are_audited_and_other_clinics_see_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    pid = new_patient(tenant)
    post(tenant, pid)
    listing = tenant.client("psychiatrist").get(URL.format(pid))
    assert listing.status_code == 200 and len(listing.json()) == 1
    assert audit_rows(tenant, pid)[-1].action == "read"
    assert other_tenant.client("psychiatrist").get(URL.format(pid)).status_code == 404
    assert post(other_tenant, pid).status_code == 404
    assert tenant.client("admin").get(URL.format(pid)).status_code == 403


def test_a_course_scored_only_after_its_first_day_has_no_baseline_rather_than_another_courses_score(
        tenant: Tenant) -> None:
    """The earlier course's last score (taken within a month of this course's first day) is not a baseline."""
    pid = new_patient(tenant)
    first = new_course(tenant, pid, status="completed")
    earlier = post(tenant, pid, items=phq9(10), administered_at=at(days=-10), course_id=first).json()
    second = new_course(tenant, pid, start_date=TODAY - timedelta(days=2))
    own = post(tenant, pid, items=phq9(20), administered_at=at(days=-1), course_id=second).json()
    assert own["baseline_assessment_id"] != earlier["id"] and own["baseline_total"] is None, own
    assert any("no baseline" in r for r in own["reasons"])


def _session_started(tenant: Tenant, pid: int, cid: int, started_hours: float) -> None:
    """A completed treatment session of the course that began ``started_hours`` from T0."""
    started = moment(hours=started_hours)
    booking_id = new_booking(tenant, pid, cid, started)
    with session_scope(tenant.app.state.engine) as session:
        chair_id = session.get_one(Booking, booking_id).chair_id
    add(tenant, TreatmentSession(clinic_id=tenant.clinic_id, patient_id=pid, course_id=cid, booking_id=booking_id,
                                 chair_id=chair_id, status=SessionStatus.completed.value, checked_in_at=started,
                                 started_at=started, ended_at=started + timedelta(minutes=20), updated_at=T0))


def test_a_score_taken_after_the_first_session_began_is_not_the_baseline_even_on_the_first_day(
        tenant: Tenant) -> None:
    """Session 1 began at 7:00 on the course's first day: the 6:00 score is the baseline, the 8:00 one a response
    to treatment. A course first scored an hour after its first session began has no baseline to measure from."""
    pid = new_patient(tenant)
    cid = new_course(tenant, pid, start_date=TODAY)
    _session_started(tenant, pid, cid, started_hours=-2)
    before = post(tenant, pid, items=phq9(20), administered_at=at(hours=-3), course_id=cid).json()
    after = post(tenant, pid, items=phq9(10), administered_at=at(hours=-1), course_id=cid).json()
    assert after["baseline_assessment_id"] == before["id"] and after["percent_change"] == -50.0, after

    pid = new_patient(tenant)
    cid = new_course(tenant, pid, start_date=TODAY)
    _session_started(tenant, pid, cid, started_hours=-5)  # the one technician's earlier booking
    post_session = post(tenant, pid, items=phq9(20), administered_at=at(hours=-4), course_id=cid).json()
    later = post(tenant, pid, items=phq9(10), administered_at=at(hours=-1), course_id=cid).json()
    assert later["baseline_assessment_id"] is None and later["baseline_total"] is None, (post_session, later)
    assert later["response"] is None and any("no baseline" in r for r in later["reasons"])
