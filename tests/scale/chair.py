"""A treatment session started through the API, and a real `tmsops agent` process to deliver it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from tests.builders.clinic import ok, ready_clinic
from tests.builders.records import ALL_NO, CHECKLIST_OK
from tests.conftest import PASSWORD
from tests.scale.cluster import ROOT, RemoteTenant, next_open_weekday

ENDED = ("completed", "interrupted", "aborted")
MODEL, PROTOCOL = "magventure-x100", "itbs_600"  # 600 pulses in 20 trains of 30


@dataclass
class Started:
    chair_id: int
    booking_id: int
    session_id: int


def started_session(staff: RemoteTenant) -> Started:
    """Order, screen, threshold, book, check in and start a session, every call through process A.

    The booking is on the next open weekday (the clinic's hours are Mon-Fri); check-in is allowed ahead of it.
    """
    clinic = ready_clinic(staff)  # type: ignore[arg-type]  # the builders take any Tenant-like object
    chair_id, device_id = clinic.add_chair("Chair X100", model=MODEL)
    patient_id = clinic.patient(payer=None)
    course = clinic.course(patient_id, protocol_id=PROTOCOL)
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status",
                         json={"status": "active", "reason": "screened and consented"}))
    ok(clinic.tech.post(f"/api/v1/patients/{patient_id}/screenings",
                        json={"course_id": course["id"], "answers": ALL_NO}), 201)
    ok(clinic.tech.post(f"/api/v1/patients/{patient_id}/motor-thresholds", json={
        "determined_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "method": "emg_relative_frequency",
        "muscle": "APB", "value_pct_mso": 50, "device_id": device_id}), 201)
    day = next_open_weekday(datetime.now(UTC).date())
    booking = ok(clinic.tech.post("/api/v1/bookings", json={
        "course_id": course["id"], "chair_id": chair_id, "technician_id": clinic.technician_id,
        "start_at": datetime.combine(day, clock_time(15, 0), tzinfo=UTC).isoformat()}), 201)
    session = ok(clinic.tech.post(f"/api/v1/bookings/{booking['id']}/check-in"), 201)
    ok(clinic.tech.put(f"/api/v1/sessions/{session['id']}/checklist", json={
        "answers": CHECKLIST_OK, "coil_position": {"method": "beam_f3", "x_cm": 5.1, "y_cm": 7.2}}))
    started = ok(clinic.tech.post(f"/api/v1/sessions/{session['id']}/start"))
    assert started["status"] == "programming"
    return Started(chair_id, int(booking["id"]), int(session["id"]))


@dataclass
class Agent:
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def chair_agent(staff: RemoteTenant, chair_id: int, service: str, workdir: Path, *,
                speed: float = 0) -> Iterator[Agent]:
    """`tmsops agent` for the chair on a simulated X100, reporting to ``service``; stopped with SIGTERM."""
    secret = workdir / "agent.secret"
    secret.write_text(PASSWORD)
    log = workdir / "agent.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "agent", "--chair", str(chair_id), "--device", f"sim://{MODEL}",
             "--model", MODEL, "--service", service, "--username", staff.usernames["agent"],
             "--password-file", str(secret), "--outbox", str(workdir / "outbox.db"), "--speed", str(speed)],
            cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Agent(proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def session_record(staff: RemoteTenant, session_id: int, node: int = 0) -> dict[str, Any]:
    with staff.cluster.nodes[node].client(staff.tokens["technician"]) as tech:
        return dict(ok(tech.get(f"/api/v1/sessions/{session_id}")))


def wait_for_session(staff: RemoteTenant, session_id: int, agent: Agent, done: Any, what: str, *, node: int = 0,
                     timeout_s: float = 120) -> dict[str, Any]:
    """Poll the session through ``node`` until ``done(record)``; the timeout bounds a hang, no speed is asserted."""
    deadline = time.monotonic() + timeout_s
    while True:
        record = session_record(staff, session_id, node)
        if done(record):
            return record
        if agent.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"session {session_id} is {record['status']}, waiting for {what}; "
                                 f"agent log:\n{agent.tail()}")
        time.sleep(0.2)
