"""Start refuses with the reason for every gate, and nothing reaches the chair when it does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.models.sessions import ChairCommand
from tests.agent.flow import Treatable, check_in_and_ready, treatable_booking
from tests.builders.clinic import WRITE, ok
from tests.builders.records import ALL_NO, CHECKLIST_OK
from tests.conftest import T0, Tenant


def _screen_implant(t: Treatable, session_id: int = 0) -> None:
    ok(t.tech.post(f"/api/v1/patients/{t.patient_id}/screenings",
                   json={"course_id": t.course_id, "answers": ALL_NO | {"implant_within_30cm": "yes"}}), 201)


def _screen_unsure_implant(t: Treatable, session_id: int = 0) -> None:
    ok(t.tech.post(f"/api/v1/patients/{t.patient_id}/screenings",
                   json={"course_id": t.course_id, "answers": ALL_NO | {"implant_within_30cm": "unsure"}}), 201)


def _suicide_item(t: Treatable, session_id: int = 0) -> None:
    ok(t.tech.post(f"/api/v1/patients/{t.patient_id}/assessments", json={
        "instrument": "PHQ-9", "administered_at": (T0 - timedelta(hours=1)).isoformat(), "course_id": t.course_id,
        "items": [2, 2, 2, 2, 1, 1, 1, 1, 1, None]}), 201)


def _seizure(t: Treatable, session_id: int = 0) -> None:
    ok(t.tech.post(f"/api/v1/patients/{t.patient_id}/adverse-events", json={
        "course_id": t.course_id, "term": "seizure", "grade": 3,
        "onset_at": (T0 - timedelta(days=1)).isoformat()}), 201)


def _medication_change_at_check_in(t: Treatable, session_id: int) -> None:
    answers = CHECKLIST_OK | {"medication_change": "yes"}
    ok(t.tech.put(f"/api/v1/sessions/{session_id}/checklist", json={"answers": answers}, headers=WRITE))


def _hold(t: Treatable, session_id: int = 0) -> None:
    psych = t.tenant.client("psychiatrist")
    ok(psych.post(f"/api/v1/courses/{t.course_id}/status", json={"status": "on_hold", "reason": "insurance review"},
                  headers=WRITE))


GATES: dict[str, tuple[Callable[[Treatable, int], None], str]] = {
    "absolute contraindication": (_screen_implant, "screening_absolute_contraindication"),
    "unsure about an implant within 30 cm": (_screen_unsure_implant, "screening_absolute_contraindication"),
    "open suicide-risk alert": (_suicide_item, "suicide_alert_open"),
    "serious adverse event": (_seizure, "adverse_event_uncleared"),
    "course not active": (_hold, "course_not_active"),
}


@pytest.mark.parametrize("gate", list(GATES))
def test_start_refuses_with_the_reason_and_sends_nothing(tenant: Tenant, gate: str) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t)
    make_blocked, code = GATES[gate]
    make_blocked(t, session["id"])
    refused = t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "treatment_blocked" and code in {d["code"] for d in error["details"]}
    assert error["message"].startswith("treatment is blocked: ")
    with Session(tenant.app.state.engine) as s:
        assert s.exec(select(ChairCommand).where(ChairCommand.session_id == session["id"])).first() is None
    assert ok(t.tech.get(f"/api/v1/sessions/{session['id']}"))["status"] == "ready_to_start"


def test_a_medication_change_reported_at_check_in_makes_yesterdays_mt_stale(tenant: Tenant) -> None:
    t = treatable_booking(tenant, mt_at=T0 - timedelta(days=1))
    session = check_in_and_ready(t)
    _medication_change_at_check_in(t, session["id"])
    refused = t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE)
    assert refused.status_code == 409 and "mt_stale" in {d["code"] for d in refused.json()["error"]["details"]}


def test_an_unfinished_or_failed_checklist_keeps_the_session_from_starting(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t, answers=CHECKLIST_OK | {"hearing_protection": "no"})
    assert session["status"] == "checked_in" and session["checklist"]["blocking"]
    refused = t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_ready"


def test_checklist_items_are_validated_by_name(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    session = ok(t.tech.post(f"/api/v1/bookings/{t.booking_id}/check-in", headers=WRITE), 201)
    bad = t.tech.put(f"/api/v1/sessions/{session['id']}/checklist", json={"answers": {"bogus": "yes"}}, headers=WRITE)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "checklist.bogus"


def test_preflight_lists_every_reason_in_plain_words(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t)
    _seizure(t)
    _suicide_item(t)
    pre = ok(t.tech.get(f"/api/v1/sessions/{session['id']}/preflight"))
    codes = {b["code"] for b in pre["blockers"]}
    assert {"adverse_event_uncleared", "suicide_alert_open"} <= codes
    assert all(b["message"] and b["message"][0].isupper() for b in pre["blockers"])
    assert pre["dose"]["output_pct_mso"] == 60


def test_adverse_event_at_the_chair_snapshots_the_session(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    event = ok(t.tech.post(f"/api/v1/sessions/{session['id']}/adverse-events",
                           json={"term": "headache", "grade": 1}, headers=WRITE), 201)
    assert (event["output_pct_mso"], event["mt_pct_mso"], event["session_number"]) == (60, 50, 1)
    assert event["booking_id"] == t.booking_id and event["serious"] is False


def test_other_clinics_cannot_touch_a_session(tenant: Tenant, other_tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t)
    outsider = other_tenant.client("technician")
    assert outsider.get(f"/api/v1/sessions/{session['id']}").status_code == 404
    assert outsider.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE).status_code == 404
    assert outsider.post(f"/api/v1/bookings/{t.booking_id}/check-in", headers=WRITE).status_code == 404


def test_the_checklist_questions_are_served_by_the_api(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    q = ok(t.tech.get("/api/v1/session-checklist"))
    items = {i["id"]: i for i in q["items"]}
    assert set(items) == set(CHECKLIST_OK) and q["version"]
    assert items["coil_position_confirmed"]["blocking_answer"] == "no"
    assert items["seizure_or_fainting"]["review_on_yes"] and items["sleep_loss"]["review_on_yes"]
    assert items["caffeine"]["review_on_yes"] is None


def test_coil_position_not_confirmed_keeps_the_session_from_starting(tenant: Tenant) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t, answers=CHECKLIST_OK | {"coil_position_confirmed": "no"})
    assert session["status"] == "checked_in" and session["checklist"]["blocking"]


@pytest.mark.parametrize("item", ["sleep_loss", "alcohol_or_drugs", "medication_change", "new_symptoms",
                                  "seizure_or_fainting"])
def test_a_checklist_answer_that_matters_blocks_until_a_clinician_acknowledges_it_with_a_note(
        tenant: Tenant, item: str) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t, answers=CHECKLIST_OK | {item: "yes"})
    sid = session["id"]
    refused = t.tech.post(f"/api/v1/sessions/{sid}/start", headers=WRITE)
    assert refused.status_code == 409, refused.text
    review = [d for d in refused.json()["error"]["details"] if d["code"] == "checklist_needs_review"]
    assert review and review[0]["details"]["items"] == [item]
    with Session(tenant.app.state.engine) as s:
        assert s.exec(select(ChairCommand).where(ChairCommand.session_id == sid)).first() is None
    url = f"/api/v1/sessions/{sid}/checklist/acknowledgements"
    psych = t.tenant.client("psychiatrist")
    no_note = psych.post(url, json={"item_id": item, "note": ""}, headers=WRITE)
    assert no_note.status_code == 422
    not_flagged = psych.post(url, json={"item_id": "caffeine", "note": "one extra coffee"}, headers=WRITE)
    assert not_flagged.status_code == 422 and not_flagged.json()["error"]["details"][0]["field"] == "item_id"
    done = ok(psych.post(url, json={"item_id": item, "note": "reviewed with the patient: safe to treat today"},
                         headers=WRITE))
    assert done["checklist"]["acknowledgements"][item]["note"].startswith("reviewed")
    codes = {b["code"] for b in ok(t.tech.get(f"/api/v1/sessions/{sid}/preflight"))["blockers"]}
    assert "checklist_needs_review" not in codes
    again = psych.post(url, json={"item_id": item, "note": "reviewed twice over"}, headers=WRITE)
    assert again.status_code == 409
