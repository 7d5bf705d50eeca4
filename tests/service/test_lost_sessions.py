"""A session whose start command an agent took and then lost ends 'interrupted', by the heartbeat rule only.

The rule (service/sessions/lost.py): the chair's agent heartbeats with no run of the session and nothing
left to send, ``session_lost_after_s`` (30 s here) after it took the session's deliver command.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from service.core.db import session_scope
from service.models.bookings import Booking
from service.models.sessions import ChairCommand, TreatmentSession
from tests.builders.delivery import DeliveryWorld, delivery_world
from tests.builders.records import audit_rows
from tests.conftest import T0, Tenant


def _world_with_command(tenant: Tenant, tag: str) -> DeliveryWorld:
    with session_scope(tenant.app.state.engine) as s:
        world = delivery_world(s, tenant.clinic_id, tenant.users["technician"], T0, tag=f"{tag}{tenant.clinic_id}",
                               trains=2, pulses_per_train=3)
        s.add(ChairCommand(clinic_id=tenant.clinic_id, chair_id=world.chair_id, session_id=world.session_id,
                           kind="deliver", payload={"mode": "control"}, created_at=T0))
    return world


def _beat(tenant: Tenant, world: DeliveryWorld, **fields: Any) -> None:
    body = {"chair_id": world.chair_id, "connected": True, "state": "disarmed"} | fields
    r = tenant.client("agent").post("/api/v1/agent/heartbeat", json=body)
    assert r.status_code == 204, r.text


def _session(tenant: Tenant, world: DeliveryWorld) -> TreatmentSession:
    with Session(tenant.app.state.engine) as s:
        ts = s.get(TreatmentSession, world.session_id)
        assert ts is not None
        return ts


def _take(tenant: Tenant, world: DeliveryWorld) -> None:
    r = tenant.client("agent").get("/api/v1/agent/commands", params={"chair_id": world.chair_id})
    assert r.status_code == 200 and [c["session_id"] for c in r.json()] == [world.session_id], r.text


def test_a_start_taken_and_lost_ends_interrupted_with_the_reason_audited(tenant: Tenant) -> None:
    world = _world_with_command(tenant, "lost")
    clock = tenant.app.state.clock
    clock.advance(timedelta(minutes=5))
    _beat(tenant, world)  # the command is still waiting for the agent: not lost
    assert _session(tenant, world).status == "programming"

    _take(tenant, world)
    clock.advance(timedelta(seconds=29))
    _beat(tenant, world)  # not yet long enough
    assert _session(tenant, world).status == "programming"

    clock.advance(timedelta(seconds=2))
    _beat(tenant, world)
    ts = _session(tenant, world)
    assert ts.status == "interrupted"
    assert ts.end_reason and "lost this session" in ts.end_reason and "no delivery was reported" in ts.end_reason
    assert ts.pulses_delivered == 0 and ts.ended_at is not None
    with Session(tenant.app.state.engine) as s:
        booking = s.get(Booking, ts.booking_id)
        assert booking is not None and booking.status == "interrupted"
    ended = [a for a in audit_rows(tenant, world.patient_id, "treatment_session") if a.action == "session_ended"]
    assert len(ended) == 1
    assert ended[0].username == tenant.usernames["agent"]
    assert ended[0].new_values and ended[0].new_values["status"] == "interrupted"

    clock.advance(timedelta(minutes=1))
    _beat(tenant, world)  # an ended session is left alone: one audit row, one reason
    assert len([a for a in audit_rows(tenant, world.patient_id, "treatment_session")
                if a.action == "session_ended"]) == 1


def test_an_agent_running_the_session_or_with_events_unsent_never_loses_it(tenant: Tenant) -> None:
    world = _world_with_command(tenant, "kept")
    clock = tenant.app.state.clock
    _take(tenant, world)
    clock.advance(timedelta(minutes=10))
    _beat(tenant, world, active_session_id=world.session_id, state="delivering")
    _beat(tenant, world, outbox_unsent=12)  # its run may still be in there
    assert _session(tenant, world).status == "programming"

    _beat(tenant, world, active_session_id=world.session_id + 1000)  # running another session
    assert _session(tenant, world).status == "interrupted"


def test_a_run_that_arrives_after_all_sets_the_status_from_the_device(tenant: Tenant) -> None:
    world = _world_with_command(tenant, "late")
    clock = tenant.app.state.clock
    _take(tenant, world)
    clock.advance(timedelta(seconds=31))
    _beat(tenant, world)
    assert _session(tenant, world).status == "interrupted"

    at = T0
    events: list[dict[str, Any]] = []

    def add(kind: str, **payload: Any) -> None:
        nonlocal at
        at += timedelta(milliseconds=100)
        events.append({"device": "SER-late", "device_session": "late-run", "seq": len(events) + 1,
                       "session_id": world.session_id, "kind": kind, "at": at.isoformat(), "payload": payload})

    add("run_started", mode="control", device={"model": "magstim-rapid2", "serial": "SER-late"})
    for train in (1, 2):
        add("train_started", train=train, planned_pulses=3)
        add("pulses_delivered", count=3, total=3 * train, train=train)
        add("train_ended", train=train, delivered_pulses=3, completed=True)
    add("run_ended", status="completed", reason=None)
    r = tenant.client("agent").post("/api/v1/agent/events", json={"events": events})
    assert r.status_code == 200, r.text
    ts = _session(tenant, world)
    assert (ts.status, ts.pulses_delivered, ts.trains_delivered, ts.end_reason) == ("completed", 6, 2, None)
    with Session(tenant.app.state.engine) as s:
        booking = s.get(Booking, ts.booking_id)
        assert booking is not None and booking.status == "completed"
