"""The gates date a session by when it really started, not by the booking it was checked in from.

Found by the interlock machine: the API lets a technician check in a booking of another day, and the daily
limit and the MT's session count read the booked time, so a second session could start on the same day (at
the same chair, while the first was still being delivered), and a session started before its booked day made
every later gate answer a 422 about a "future" session date. Resuming an interrupted session skips the daily
limit (it counted on its own day), so it is allowed on that day only.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.core.clock import FrozenClock
from service.models.sessions import ChairCommand
from tests.agent.flow import Treatable, check_in_and_ready, treatable_booking
from tests.builders.clinic import WRITE, Clinic, book, ok
from tests.conftest import T0, Tenant


def _signed_in(tenant: Tenant, role: str) -> TestClient:
    client = tenant.fresh_client(role)  # sessions end after 15 idle minutes: sign in again after the clock moves
    client.headers.update(WRITE)
    return client


def _deliver_commands(tenant: Tenant) -> int:
    with Session(tenant.app.state.engine) as s:
        return int(s.exec(select(func.count()).select_from(ChairCommand).where(
            ChairCommand.clinic_id == tenant.clinic_id, ChairCommand.kind == "deliver")).one())


def _todays_visit(t: Treatable, tech: TestClient) -> dict[str, object]:
    """Book the chair now, check in and answer the checklist."""
    clinic = Clinic(t.tenant, tech, tech, tech, t.chair_id, 0, t.tenant.users["technician"])
    booking = ok(book(clinic, t.course_id, t.tenant.app.state.clock.now().isoformat()), 201)
    return check_in_and_ready(
        Treatable(t.tenant, tech, t.patient_id, t.course_id, booking["id"], t.chair_id, t.device_id))


def test_a_booking_checked_in_days_late_counts_on_the_day_it_started(tenant: Tenant, clock: FrozenClock) -> None:
    t = treatable_booking(tenant)  # booked for T0, never attended that day
    clock.advance(timedelta(days=8))
    tech, psych = _signed_in(tenant, "technician"), _signed_in(tenant, "psychiatrist")
    ok(psych.post(f"/api/v1/patients/{t.patient_id}/motor-thresholds", json={
        "determined_at": (clock.now() - timedelta(minutes=10)).isoformat(), "method": "emg_relative_frequency",
        "muscle": "APB", "value_pct_mso": 50, "device_id": t.device_id}), 201)
    late = check_in_and_ready(Treatable(tenant, tech, t.patient_id, t.course_id, t.booking_id, t.chair_id, t.device_id))
    ok(tech.post(f"/api/v1/sessions/{late['id']}/start"))
    today = _todays_visit(t, tech)
    refused = tech.post(f"/api/v1/sessions/{today['id']}/start")
    assert refused.status_code == 409, refused.text
    assert "protocol_daily_limit" in {d["code"] for d in refused.json()["error"]["details"]}
    assert _deliver_commands(tenant) == 1


def test_a_session_started_before_its_booked_day_is_dated_today(tenant: Tenant, clock: FrozenClock) -> None:
    t = treatable_booking(tenant)
    tech = t.tech
    clinic = Clinic(tenant, tech, tech, tech, t.chair_id, 0, tenant.users["technician"])
    tomorrow = ok(book(clinic, t.course_id, (T0 + timedelta(days=1)).isoformat()), 201)
    early = check_in_and_ready(
        Treatable(tenant, tech, t.patient_id, t.course_id, tomorrow["id"], t.chair_id, t.device_id))
    ok(tech.post(f"/api/v1/sessions/{early['id']}/start"))
    ok(tenant.client("agent").post("/api/v1/agent/events", json={"events": [
        {"device": "SER-1", "device_session": "run-early", "seq": 1, "session_id": early["id"],
         "kind": "run_ended", "at": (T0 + timedelta(minutes=5)).isoformat(),
         "payload": {"status": "interrupted", "reason": "patient asked to stop"}}]}))
    today = check_in_and_ready(t)
    pre = ok(tech.get(f"/api/v1/sessions/{today['id']}/preflight"))
    assert "protocol_daily_limit" in {b["code"] for b in pre["blockers"]}


def _interrupt(tenant: Tenant, session_id: int) -> None:
    """The agent reports one train given, then the stop."""
    at = T0 + timedelta(minutes=1)
    events = [("run_started", {}), ("train_started", {"train": 1, "planned_pulses": 40}),
              ("train_ended", {"train": 1, "delivered_pulses": 40, "completed": True}),
              ("run_ended", {"status": "interrupted", "reason": "patient asked to stop"})]
    ok(tenant.client("agent").post("/api/v1/agent/events", json={"events": [
        {"device": "SER-1", "device_session": f"run-{session_id}", "seq": n, "session_id": session_id, "kind": kind,
         "at": (at + timedelta(seconds=n)).isoformat(), "payload": payload}
        for n, (kind, payload) in enumerate(events, start=1)]}))


def test_an_interrupted_session_is_resumed_the_same_day_only(tenant: Tenant, clock: FrozenClock) -> None:
    t = treatable_booking(tenant)
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start"))
    _interrupt(tenant, session["id"])
    clock.advance(timedelta(days=1))
    tech = _signed_in(tenant, "technician")
    refused = tech.post(f"/api/v1/sessions/{session['id']}/resume")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "resume_other_day", refused.text
    assert _deliver_commands(tenant) == 1
    assert ok(tech.get(f"/api/v1/sessions/{session['id']}"))["status"] == "interrupted"
