"""At the chair: one live session at a time, lost chairs end their session, check-in on its day and in turn."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from service.models.audit import AuditEvent
from tests.builders.chair_world import ChairWorld, booking_at, chair_world, treatable_course
from tests.builders.clinic import WRITE, book, ok
from tests.builders.records import CHECKLIST_OK
from tests.conftest import PASSWORD, T0, Tenant


def _ready(world: ChairWorld, booking_id: int) -> int:
    tech = world.clinic.tech
    session = ok(tech.post(f"/api/v1/bookings/{booking_id}/check-in", headers=WRITE), 201)
    ok(tech.put(f"/api/v1/sessions/{session['id']}/checklist", json={"answers": CHECKLIST_OK}, headers=WRITE))
    return int(session["id"])


def test_a_second_live_session_on_a_chair_is_refused_and_a_lost_chair_ends_its_session(tenant: Tenant) -> None:
    world = chair_world(tenant, 2)
    first = _ready(world, booking_at(world, world.courses[0], T0))
    second = _ready(world, booking_at(world, world.courses[1], T0 + timedelta(hours=1)))
    tech, agent = world.clinic.tech, tenant.client("agent")
    ok(tech.post(f"/api/v1/sessions/{first}/start", headers=WRITE))
    ok(agent.get("/api/v1/agent/commands", params={"chair_id": world.chair_id}))
    r = agent.post("/api/v1/agent/heartbeat", json={"chair_id": world.chair_id, "connected": True,
                                                    "state": "delivering", "active_session_id": first})
    assert r.status_code == 204, r.text

    refused = tech.post(f"/api/v1/sessions/{second}/start", headers=WRITE)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "chair_busy" and f"({first}, programming)" in refused.text
    assert ok(tech.get(f"/api/v1/sessions/{second}"))["status"] == "ready_to_start"  # refused: nothing changed

    clock = tenant.app.state.clock
    clock.advance(timedelta(seconds=60))  # TMS_AGENT_LOST_AFTER_S is 60: not yet
    assert [c["lost"] for c in ok(tech.get("/api/v1/chair-status"))] == [False]
    assert ok(tech.get(f"/api/v1/sessions/{first}"))["status"] == "programming"

    clock.advance(timedelta(seconds=1))
    assert [c["lost"] for c in ok(tech.get("/api/v1/chair-status"))] == [True]
    browser = tenant.anonymous()  # the chair page says so too
    ok_login = browser.post("/login", data={"username": tenant.usernames["technician"], "password": PASSWORD},
                            follow_redirects=False)
    assert ok_login.status_code == 303, ok_login.text
    page = browser.get("/chairs")
    assert page.status_code == 200 and "lost: no heartbeat from its agent since" in page.text
    ended = ok(tech.get(f"/api/v1/sessions/{first}"))
    assert ended["status"] == "interrupted" and ended["end_reason"].startswith("chair lost: its agent has not")
    flags = ok(tech.get("/api/v1/review-flags", params={"kind": "session_lost"}))
    assert [f["patient_id"] for f in flags] == [ended["patient_id"]]
    ok(tech.post(f"/api/v1/sessions/{second}/start", headers=WRITE))  # the chair is free again


def test_the_sweep_ends_only_the_session_of_the_chair_whose_agent_went_quiet(tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    clinic = world.clinic
    other_chair, other_device = clinic.add_chair("Chair B", model="magstim-rapid2")
    other_booking = ok(book(clinic, treatable_course(clinic, device_id=other_device),
                            (T0 + timedelta(hours=1)).isoformat(), chair_id=other_chair), 201)["id"]
    quiet, heard = _ready(world, booking_at(world, world.courses[0], T0)), _ready(world, int(other_booking))
    tech, agent = clinic.tech, tenant.client("agent")

    def beat(chair_id: int, session_id: int) -> None:
        r = agent.post("/api/v1/agent/heartbeat", json={"chair_id": chair_id, "connected": True,
                                                        "state": "delivering", "active_session_id": session_id})
        assert r.status_code == 204, r.text

    for session_id, chair_id in ((quiet, world.chair_id), (heard, other_chair)):
        ok(tech.post(f"/api/v1/sessions/{session_id}/start", headers=WRITE))
        ok(agent.get("/api/v1/agent/commands", params={"chair_id": chair_id}))
        beat(chair_id, session_id)
    clock = tenant.app.state.clock
    clock.advance(timedelta(seconds=40))
    beat(other_chair, heard)  # one agent still reports; the other has gone quiet
    clock.advance(timedelta(seconds=21))  # TMS_AGENT_LOST_AFTER_S is 60: one chair is 61 s quiet, the other 21 s
    ok(tech.get("/api/v1/review-flags"))  # the review queue sweeps lost chairs before it lists
    assert ok(tech.get(f"/api/v1/sessions/{quiet}"))["status"] == "interrupted"
    assert ok(tech.get(f"/api/v1/sessions/{heard}"))["status"] == "programming"


def test_check_in_is_for_the_bookings_own_day_and_in_sequence_unless_a_psychiatrist_says_why(
        tenant: Tenant) -> None:
    world = chair_world(tenant, 1)
    course = world.courses[0]
    monday = booking_at(world, course, T0)
    tuesday = booking_at(world, course, T0 + timedelta(days=1))
    tech, psych = world.clinic.tech, world.clinic.psych

    early = tech.post(f"/api/v1/bookings/{tuesday}/check-in", headers=WRITE)
    assert early.status_code == 409, early.text
    assert early.json()["error"]["code"] == "check_in_out_of_turn"
    assert "booked for 2026-11-24, and today is 2026-11-23" in early.text and "session 1" in early.text

    tenant.app.state.clock.advance(timedelta(days=1))  # Tuesday; Monday's booking is still pending
    tech, psych = tenant.fresh_client("technician"), tenant.fresh_client("psychiatrist")  # signed in anew
    out_of_order = tech.post(f"/api/v1/bookings/{tuesday}/check-in", headers=WRITE)
    assert out_of_order.status_code == 409, out_of_order.text
    reasons = out_of_order.json()["error"]["details"]["reasons"]
    assert len(reasons) == 1 and f"session 1 (booking {monday}, booked)" in reasons[0]

    why = {"override_reason": "Monday's session was missed; the patient is treated today, Monday's is cancelled"}
    forbidden = tech.post(f"/api/v1/bookings/{tuesday}/check-in", json=why, headers=WRITE)
    assert forbidden.status_code == 403 and "only a psychiatrist" in forbidden.text

    session = ok(psych.post(f"/api/v1/bookings/{tuesday}/check-in", json=why, headers=WRITE), 201)
    assert session["check_in_override"]["reason"] == why["override_reason"]
    assert session["check_in_override"]["overrode"] == reasons
    with Session(tenant.app.state.engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.entity == "treatment_session",
                                              AuditEvent.entity_id == str(session["id"]),
                                              AuditEvent.action == "check_in")).one()
        assert audit.reason == why["override_reason"] and audit.username == tenant.usernames["psychiatrist"]
    flags = ok(psych.get("/api/v1/review-flags", params={"kind": "check_in_override"}))
    assert [f["booking_id"] for f in flags] == [tuesday]
