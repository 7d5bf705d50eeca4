"""Delivery across processes: ingestion is idempotent whichever process a batch reaches, and a session started
through one process is delivered by a chair agent that talks only to another."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from service.core.db import session_scope
from service.models.sessions import DeliveryEventRow, SessionTrain, TreatmentSession
from tests.builders.clinic import ok
from tests.builders.delivery import delivery_world
from tests.scale.chair import ENDED, chair_agent, started_session, wait_for_session
from tests.scale.cluster import Cluster, RemoteTenant


def run_events(session_id: int, run: str, trains: int, ppt: int) -> list[dict[str, Any]]:
    """What a chair agent sends for one whole run: start, programmed, each train pulse by pulse, end."""
    at = datetime.now(UTC) - timedelta(minutes=30)
    out: list[dict[str, Any]] = []

    def add(kind: str, **payload: Any) -> None:
        nonlocal at
        at += timedelta(milliseconds=100)
        out.append({"device": f"SER-{run}", "device_session": run, "seq": len(out) + 1, "session_id": session_id,
                    "kind": kind, "at": at.isoformat(), "payload": payload})

    add("run_started", mode="control", device={"model": "magstim-rapid2", "serial": f"SER-{run}"})
    add("programmed", parameters={"intensity_a": 60})
    for train in range(1, trains + 1):
        add("train_started", train=train, planned_pulses=ppt)
        for n in range(ppt):
            add("pulses_delivered", count=1, total=(train - 1) * ppt + n + 1, train=train)
        add("coil_temperature", celsius=25.0 + train)
        add("train_ended", train=train, delivered_pulses=ppt, completed=True)
    add("run_ended", status="completed", reason=None)
    return out


def test_the_same_batches_sent_to_both_processes_at_once_are_stored_and_counted_once(
    two: Cluster, clinic_staff: RemoteTenant,
) -> None:
    """Eight senders, four per process, each sending the whole run in batches of 7, released together."""
    with session_scope(two.engine) as s:
        world = delivery_world(s, clinic_staff.clinic_id, clinic_staff.users["technician"], datetime.now(UTC),
                               tag=uuid.uuid4().hex[:8], trains=5, pulses_per_train=10)
    events = run_events(world.session_id, f"run-{world.session_id}", 5, 10)
    barrier = threading.Barrier(8)
    outcomes: list[tuple[int, dict[str, int] | str]] = []

    def send(i: int) -> None:
        with two.nodes[i % 2].client(clinic_staff.tokens["agent"]) as agent:
            agent.get("/api/v1/health")
            barrier.wait()
            for start in range(0, len(events), 7):
                r = agent.post("/api/v1/agent/events", json={"events": events[start:start + 7]})
                outcomes.append((r.status_code, r.json() if r.status_code == 200 else r.text))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {code for code, _ in outcomes} == {200}, outcomes
    bodies = [body for _, body in outcomes if isinstance(body, dict)]
    assert sum(b["accepted"] for b in bodies) == len(events)  # each event accepted by exactly one request
    assert sum(b["duplicates"] for b in bodies) == 7 * len(events)
    with Session(two.engine) as s:
        stored = s.exec(select(func.count()).select_from(DeliveryEventRow)
                        .where(DeliveryEventRow.session_id == world.session_id)).one()
        ts = s.get(TreatmentSession, world.session_id)
        trains = s.exec(select(SessionTrain).where(SessionTrain.session_id == world.session_id)).all()
    assert stored == len(events)
    assert ts is not None and (ts.status, ts.pulses_delivered, ts.trains_delivered) == ("completed", 50, 5)
    assert sorted((t.train, t.delivered_pulses) for t in trains) == [(n, 10) for n in range(1, 6)]


def test_a_session_started_through_a_is_delivered_by_an_agent_talking_only_to_b(
    two: Cluster, clinic_staff: RemoteTenant, tmp_path: Path,
) -> None:
    started = started_session(clinic_staff)
    with chair_agent(clinic_staff, started.chair_id, two.nodes[1].base, tmp_path) as agent:
        record = wait_for_session(clinic_staff, started.session_id, agent, lambda r: r["status"] in ENDED, "its end")
        with two.nodes[0].client(clinic_staff.tokens["technician"]) as tech:
            chairs = ok(tech.get("/api/v1/chair-status"))  # heartbeats went to B; A reads them from the database
            booking = ok(tech.get(f"/api/v1/bookings/{started.booking_id}"))
    assert record["status"] == "completed", record
    assert (record["pulses_delivered"], record["trains_delivered"]) == (600, 20)
    assert len(record["trains"]) == 20 and all(t["delivered_pulses"] == 30 for t in record["trains"])
    assert booking["status"] == "completed"
    assert any(c["chair_id"] == started.chair_id and c["connected"] for c in chairs), chairs
