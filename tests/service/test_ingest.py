"""Delivery events are stored once per (device, device_session, seq), however often and wherever sent."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, MetaData, Table, create_engine, insert, text
from sqlmodel import Session, func, select

from service.auth.principal import Principal
from service.core.columns import UtcDateTime
from service.core.db import is_sqlite, session_scope
from service.core.errors import Unprocessable
from service.core.group_commit import group_commit
from service.models.sessions import DeliveryEventRow, SessionTrain, TreatmentSession
from service.sessions.ingest import Call, ingest, ingest_batch_async, ingest_many, sqlite_time
from service.sessions.schemas import EventIn, IngestResult
from tests.builders.delivery import DeliveryWorld, delivery_world
from tests.conftest import T0, Tenant, wait_until


def _world(tenant: Tenant, trains: int = 3, ppt: int = 4, slot: int = 0) -> DeliveryWorld:
    with session_scope(tenant.app.state.engine) as s:
        return delivery_world(s, tenant.clinic_id, tenant.users["technician"], T0,
                              tag=f"{tenant.clinic_id}-{slot}", trains=trains, pulses_per_train=ppt, slot=slot)


def _run_events(world: DeliveryWorld, run: str, trains: int, ppt: int, *, end: str = "completed") -> list[dict]:
    """What an agent sends for a whole run: start, programmed, each train pulse by pulse, end."""
    at = T0
    out: list[dict[str, Any]] = []

    def add(kind: str, **payload: Any) -> None:
        nonlocal at
        at += timedelta(milliseconds=100)
        out.append({"device": "SER-1", "device_session": run, "seq": len(out) + 1, "session_id": world.session_id,
                    "kind": kind, "at": at.isoformat(), "payload": payload})

    add("run_started", mode="control", device={"model": "magstim-rapid2", "serial": "SER-1"})
    add("programmed", parameters={"intensity_a": 60})
    for train in range(1, trains + 1):
        add("train_started", train=train, planned_pulses=ppt)
        for n in range(ppt):
            add("pulses_delivered", count=1, total=(train - 1) * ppt + n + 1, train=train)
        add("coil_temperature", celsius=25.0 + train)
        add("train_ended", train=train, delivered_pulses=ppt, completed=True)
    add("run_ended", status=end, reason=None)
    return out


def _counts(tenant: Tenant, world: DeliveryWorld) -> tuple[int, TreatmentSession]:
    with Session(tenant.app.state.engine) as s:
        n = s.exec(select(func.count()).select_from(DeliveryEventRow)
                   .where(DeliveryEventRow.session_id == world.session_id)).one()
        ts = s.get(TreatmentSession, world.session_id)
        assert ts is not None
        return int(n), ts


def test_a_run_completes_the_session_with_exact_counts(tenant: Tenant) -> None:
    world = _world(tenant)
    events = _run_events(world, "run-a", 3, 4)
    r = tenant.client("agent").post("/api/v1/agent/events", json={"events": events})
    assert r.status_code == 200 and r.json() == {"accepted": len(events), "duplicates": 0}
    stored, ts = _counts(tenant, world)
    assert stored == len(events)
    assert (ts.status, ts.pulses_delivered, ts.trains_delivered, ts.max_coil_temp_c) == ("completed", 12, 3, 28.0)
    with Session(tenant.app.state.engine) as s:  # each event reads back as it was sent
        rows = s.exec(select(DeliveryEventRow).where(DeliveryEventRow.session_id == world.session_id)
                      .order_by(DeliveryEventRow.seq)).all()
    assert [(r.device, r.device_session, r.seq, r.kind, r.at, r.payload, r.clinic_id) for r in rows] == [
        (e["device"], e["device_session"], e["seq"], e["kind"], datetime.fromisoformat(e["at"]), e["payload"],
         tenant.clinic_id) for e in events]
    assert {r.received_at for r in rows} == {T0}, "received_at is the server's clock"
    with Session(tenant.app.state.engine) as s:
        trains = s.exec(select(SessionTrain).where(SessionTrain.session_id == world.session_id)).all()
    assert sorted((t.train, t.delivered_pulses, t.completed) for t in trains) == [(1, 4, True), (2, 4, True),
                                                                                 (3, 4, True)]


def test_resending_changes_nothing(tenant: Tenant) -> None:
    world = _world(tenant)
    events = _run_events(world, "run-b", 3, 4)
    agent = tenant.client("agent")
    assert agent.post("/api/v1/agent/events", json={"events": events[:10]}).json()["accepted"] == 10
    again = agent.post("/api/v1/agent/events", json={"events": events})  # overlapping resend
    assert again.json() == {"accepted": len(events) - 10, "duplicates": 10}
    third = agent.post("/api/v1/agent/events", json={"events": events})
    assert third.json() == {"accepted": 0, "duplicates": len(events)}
    stored, ts = _counts(tenant, world)
    assert stored == len(events) and ts.pulses_delivered == 12 and ts.status == "completed"


def test_concurrent_resends_from_many_clients_store_each_event_once(tenant: Tenant) -> None:
    """Eight clients race to send the same batches (as two service processes would see them)."""
    world = _world(tenant, trains=5, ppt=10)
    events = _run_events(world, "run-c", 5, 10)
    errors: list[str] = []

    def send() -> None:
        client: TestClient = tenant.client("agent")
        for start in range(0, len(events), 7):
            r = client.post("/api/v1/agent/events", json={"events": events[start:start + 7]})
            if r.status_code != 200:
                errors.append(r.text)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stored, ts = _counts(tenant, world)
    assert stored == len(events)
    assert (ts.pulses_delivered, ts.trains_delivered, ts.status) == (50, 5, "completed")


def test_an_event_sent_twice_in_one_batch_is_stored_and_counted_once(tenant: Tenant) -> None:
    world = _world(tenant, trains=3, ppt=4)
    events = _run_events(world, "run-twice", 3, 4)[:5]  # started, programmed, train 1 started, two pulses
    batch = [*events, events[-1]]  # the last pulse again, as a resend glued onto its own batch would carry it
    r = tenant.client("agent").post("/api/v1/agent/events", json={"events": batch})
    assert r.json() == {"accepted": 5, "duplicates": 1}
    stored, ts = _counts(tenant, world)
    assert stored == 5 and ts.live_pulses == 2
    with Session(tenant.app.state.engine) as s:
        row = s.exec(select(SessionTrain).where(SessionTrain.session_id == world.session_id)).one()
    assert row.delivered_pulses == 2


def _outcome(tenant: Tenant, world: DeliveryWorld) -> tuple[object, ...]:
    _, ts = _counts(tenant, world)
    with Session(tenant.app.state.engine) as s:
        trains = s.exec(select(SessionTrain).where(SessionTrain.session_id == world.session_id)).all()
    return (ts.status, ts.pulses_delivered, ts.live_pulses, ts.trains_delivered, ts.current_train,
            sorted((t.train, t.delivered_pulses, t.completed, t.ended_at is not None) for t in trains))


def test_a_batch_folds_to_what_its_events_make_one_at_a_time(tenant: Tenant) -> None:
    """Pulse reports out of the usual order: a late one for an ended train, one naming no train, one for a train
    never started, several for the open train. Sent as one batch they leave the session and its trains exactly as
    sent one by one."""
    one_by_one, batched = _world(tenant, slot=0), _world(tenant, slot=1)

    def events(world: DeliveryWorld) -> list[dict[str, Any]]:
        base = _run_events(world, f"run-mixed-{world.session_id}", 2, 3)
        pulse = next(e for e in base if e["kind"] == "pulses_delivered")
        extra = [dict(pulse, payload={"count": 1, "train": 1}),  # train 1 has ended: changes nothing
                 dict(pulse, payload={"count": 2, "train": 2}),
                 dict(pulse, payload={"count": 1}),  # names no train: folds into none
                 dict(pulse, payload={"count": 1, "train": 3}),  # a train never started: a row of its own
                 dict(pulse, payload={"count": 1, "train": 2})]  # the live count follows the last report
        # Train 2 is still open: cut before its end, and renumbered so every event has its own key.
        end_of_train_2 = max(i for i, e in enumerate(base) if e["kind"] == "train_ended")
        mixed = [*base[:end_of_train_2 - 1], *extra]
        return [dict(e, seq=i + 1) for i, e in enumerate(mixed)]

    agent = tenant.client("agent")
    for event in events(one_by_one):
        assert agent.post("/api/v1/agent/events", json={"events": [event]}).status_code == 200
    assert agent.post("/api/v1/agent/events", json={"events": events(batched)}).status_code == 200
    assert _outcome(tenant, batched) == _outcome(tenant, one_by_one) == (
        "delivering", 3, 3 + 6, 1, 2, [(1, 3, True, True), (2, 3 + 2 + 1, False, False), (3, 1, False, False)])


def _agent(tenant: Tenant) -> Principal:
    return Principal(user_id=tenant.users["agent"], username=tenant.usernames["agent"], display_name="agent",
                     role="agent", clinic_id=tenant.clinic_id, session_id=0, via_cookie=False)


def _calls(tenant: Tenant, a: DeliveryWorld, b: DeliveryWorld) -> list[Call]:
    """Two chairs' whole runs in calls of five events, taking turns, with one call sent twice (a resend)."""
    def chunks(world: DeliveryWorld) -> list[list[EventIn]]:
        events = [EventIn.model_validate(e) for e in _run_events(world, f"run-j-{world.session_id}", 3, 4)]
        return [events[i:i + 5] for i in range(0, len(events), 5)]

    turns = [chunk for pair in zip(chunks(a), chunks(b), strict=True) for chunk in pair]
    turns.insert(5, turns[3])
    return [Call(_agent(tenant), chunk, T0 + timedelta(seconds=i)) for i, chunk in enumerate(turns)]


def test_calls_folded_together_leave_what_they_leave_one_after_another(tenant: Tenant) -> None:
    """Whole runs (a train's pulses split across calls, the run's end and its completion inside them), two chairs'
    calls interleaved and one resent: folded as one, each call gets the answer it gets alone, and the sessions, their
    trains and the stored events come out the same."""
    alone_a, alone_b, joined_a, joined_b = (_world(tenant, trains=3, ppt=4, slot=i) for i in range(4))
    engine = tenant.app.state.engine
    alone = []
    for call in _calls(tenant, alone_a, alone_b):
        with session_scope(engine) as s:
            alone.append(ingest(s, call.who, call.events, call.now))
    with session_scope(engine) as s:
        joined = ingest_many(s, _calls(tenant, joined_a, joined_b))
    assert joined == alone and alone[5] == IngestResult(accepted=0, duplicates=5)
    for one, other in ((alone_a, joined_a), (alone_b, joined_b)):
        assert _outcome(tenant, other) == _outcome(tenant, one) == ("completed", 12, 12, 3, None, [
            (1, 4, True, True), (2, 4, True, True), (3, 4, True, True)])
        assert _counts(tenant, other)[0] == _counts(tenant, one)[0] == 24


def test_a_call_naming_another_clinics_session_is_refused_alone_when_queued_with_others(
        tenant: Tenant, other_tenant: Tenant) -> None:
    """On SQLite the three calls are queued behind one held write and joined; the one naming a session of another
    clinic is refused, and the two beside it are stored (on PostgreSQL each call has its own transaction)."""
    first, last = _world(tenant, trains=1, ppt=2, slot=0), _world(tenant, trains=1, ppt=2, slot=1)
    engine = tenant.app.state.engine
    committer = group_commit(engine)
    release = threading.Event()
    holder = threading.Thread(target=committer.run, args=(lambda c: release.wait(10),))
    holder.start()
    wait_until(committer.writing)

    def events(world: DeliveryWorld) -> list[EventIn]:
        return [EventIn.model_validate(e) for e in _run_events(world, f"run-q-{world.session_id}", 1, 2)]

    async def send() -> list[object]:
        sends = [ingest_batch_async(engine, _agent(tenant), events(first), T0),
                 ingest_batch_async(engine, _agent(other_tenant), events(last), T0),  # names tenant's session
                 ingest_batch_async(engine, _agent(tenant), events(last), T0)]
        queued = [asyncio.ensure_future(s) for s in sends]
        if is_sqlite(engine):
            await asyncio.to_thread(wait_until, lambda: committer.pending() == 3)
        release.set()
        return await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), 10)

    stored_first, refused, stored_last = asyncio.run(send())
    holder.join(timeout=10)
    assert stored_first == stored_last == IngestResult(accepted=8, duplicates=0)
    assert isinstance(refused, Unprocessable) and "not found in this clinic" in str(refused)
    assert _counts(tenant, first)[0] == _counts(tenant, last)[0] == 8
    assert _outcome(tenant, last)[:2] == ("completed", 2)


@pytest.mark.parametrize("value", [
    datetime(2026, 12, 4, 12, 0, tzinfo=UTC), datetime(2026, 12, 4, 12, 0, 1, 5, tzinfo=UTC),
    datetime(2026, 12, 4, 7, 30, 59, 999_999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(998, 1, 2, 3, 4, 5, 6, tzinfo=UTC)])
def test_the_event_insert_renders_a_time_as_sqlalchemy_stores_it_in_sqlite(value: datetime) -> None:
    table = Table("t", MetaData(), Column("at", UtcDateTime()))
    engine = create_engine("sqlite://")
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), {"at": value})
        assert connection.execute(text("SELECT at FROM t")).scalar_one() == sqlite_time(value)


def test_an_interrupted_run_is_recorded_truthfully(tenant: Tenant) -> None:
    world = _world(tenant, trains=3, ppt=4)
    events = _run_events(world, "run-d", 3, 4)
    cut = [e for e in events if not (e["kind"] in ("train_started", "pulses_delivered", "train_ended",
                                                     "coil_temperature") and e["payload"].get("train") == 3)]
    cut[-1]["payload"] = {"status": "interrupted", "reason": "Disconnected: the serial port went away"}
    tenant.client("agent").post("/api/v1/agent/events", json={"events": cut})
    _, ts = _counts(tenant, world)
    assert (ts.status, ts.pulses_delivered, ts.trains_delivered) == ("interrupted", 8, 2)
    assert ts.end_reason and "serial port" in ts.end_reason
    assert ts.interruptions and "serial port" in ts.interruptions[-1]["cause"]


def test_a_run_cut_mid_train_counts_the_reported_pulses_and_estimates_the_rest(tenant: Tenant) -> None:
    """The agent died during train 3 (no train_ended); its next process closed the run, with no counter of the
    unit: 2 full trains + 3 reported pulses, and the train's remaining pulse estimated (its rate over the time
    to the run's end, at most its planned 4) and flagged, in the record and the review queue."""
    world = _world(tenant, trains=3, ppt=4)
    events = _run_events(world, "run-k", 3, 4)
    train3 = [e for e in events if e["payload"].get("train") == 3]
    pulses3 = [e for e in train3 if e["kind"] == "pulses_delivered"][:3]
    cut = [e for e in events if e not in train3 and e["kind"] != "run_ended"]
    cut += [e for e in train3 if e["kind"] == "train_started"] + pulses3
    end = {**events[-1], "seq": len(events) + 1,
           "payload": {"status": "interrupted", "reason": "the chair agent stopped during delivery"}}
    client = tenant.client("agent")
    assert client.post("/api/v1/agent/events", json={"events": cut}).status_code == 200
    assert client.post("/api/v1/agent/events", json={"events": [end]}).status_code == 200  # a later batch
    _, ts = _counts(tenant, world)
    assert (ts.status, ts.pulses_delivered, ts.trains_delivered, ts.live_pulses) == ("interrupted", 12, 2, 12)
    assert (ts.pulses_recorded, ts.pulses_estimated, ts.unit_count, ts.pulses_trusted) == (11, 1, None, "estimate")
    with Session(tenant.app.state.engine) as s:
        row = s.exec(select(SessionTrain).where(SessionTrain.session_id == world.session_id,
                                                SessionTrain.train == 3)).one()
        assert (row.delivered_pulses, row.completed, row.estimated, row.ended_at is not None) == (4, False, True, True)
    record = tenant.client("technician").get(f"/api/v1/sessions/{world.session_id}").json()
    assert record["pulse_counts"] == {"unit": None, "recorded": 11, "estimated": 1, "unit_only": 0,
                                          "trusted": "estimate", "delivered": 12, "planned": 12, "remaining": 0}
    assert [t["estimated"] for t in record["trains"]] == [False, False, True]
    flags = tenant.client("psychiatrist").get("/api/v1/review-flags", params={"kind": "pulses_estimated"}).json()
    assert [f["booking_id"] for f in flags] == [record["booking_id"]] and "1 of its 12 pulses" in flags[0]["message"]


def test_events_for_another_clinics_session_are_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    world = _world(tenant)
    events = _run_events(world, "run-e", 1, 1)
    r = other_tenant.client("agent").post("/api/v1/agent/events", json={"events": events})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "events[0].session_id"
    stored, _ = _counts(tenant, world)
    assert stored == 0


def test_only_agents_post_events(tenant: Tenant) -> None:
    world = _world(tenant)
    events = _run_events(world, "run-f", 1, 1)
    assert tenant.client("technician").post("/api/v1/agent/events", json={"events": events}).status_code == 403


def test_heartbeat_and_commands(tenant: Tenant) -> None:
    world = _world(tenant)
    agent = tenant.client("agent")
    beat = {"chair_id": world.chair_id, "connected": True, "model": "magstim-rapid2", "serial": "SER-1",
            "coil_temp_c": 24.5, "state": "disarmed"}
    assert agent.post("/api/v1/agent/heartbeat", json=beat).status_code == 204
    status = tenant.client("technician").get("/api/v1/chair-status").json()
    assert [(s["chair_id"], s["connected"], s["coil_temp_c"]) for s in status] == [(world.chair_id, True, 24.5)]
    assert agent.get("/api/v1/agent/commands", params={"chair_id": world.chair_id}).json() == []
    assert agent.get("/api/v1/agent/commands", params={"chair_id": 2_000_000}).status_code == 404
