"""Builders for the dose-safety API tests: signed overrides, a delivery reported by the chair agent, rows sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from service.models.courses import Course
from service.models.sessions import ChairCommand
from tests.agent.flow import Treatable
from tests.builders.clinic import WRITE, ok
from tests.conftest import PASSWORD, Tenant

# The catalog's 10 Hz protocol (4 s trains, 26 s apart, 75 trains) as a signed override names it.
HF10 = {"frequency_hz": 10, "train_duration_s": 4, "iti_s": 26, "trains": 75}


def hf10_at(intensity: float, **changes: Any) -> dict[str, Any]:
    """The 10 Hz protocol's parameter set at ``intensity`` % MT."""
    return HF10 | {"intensity_pct_mt": intensity} | changes


def sign(tenant: Tenant, parameters: dict[str, Any], *, patient_id: int | None = None,
         course_id: int | None = None) -> Any:
    """The tenant's psychiatrist signs an override (returns the response)."""
    psych = tenant.client("psychiatrist")
    return psych.post("/api/v1/protocols/overrides", headers=WRITE, json={
        "parameters": parameters, "reason": "treatment-resistant, 120% gave no response; risks discussed",
        "printed_name": f"psychiatrist {tenant.usernames['psychiatrist'].split('-')[1]}", "password": PASSWORD,
        "patient_id": patient_id, "course_id": course_id})


def deliver_commands(tenant: Tenant, session_id: int | None = None) -> list[dict[str, Any]]:
    """Every program queued for a chair of the tenant (the only way a dose reaches a device)."""
    with Session(tenant.app.state.engine) as s:
        query = select(ChairCommand).where(ChairCommand.clinic_id == tenant.clinic_id, ChairCommand.kind == "deliver")
        if session_id is not None:
            query = query.where(ChairCommand.session_id == session_id)
        return [dict(c.payload) for c in s.exec(query).all()]


def store_course_intensity(tenant: Tenant, course_id: int, intensity: float) -> None:
    """A prescription as stored before the dose check existed (the check runs where a dose changes, and again
    at start: a row written by an earlier release or by hand must still not reach the device)."""
    with Session(tenant.app.state.engine) as s:
        course = s.get(Course, course_id)
        assert course is not None
        course.intensity_pct_mt = intensity
        s.add(course)
        s.commit()


def agent_takes(t: Treatable) -> list[dict[str, Any]]:
    """The chair agent's poll: the commands queued for its chair."""
    return list(ok(t.tenant.client("agent").get("/api/v1/agent/commands", params={"chair_id": t.chair_id,
                                                                                    "wait": 0})))


def report_interrupted(t: Treatable, session_id: int, serial: str, trains: int, pulses_per_train: int = 40) -> None:
    """The agent reports a run that ended after ``trains`` trains (the technician stopped it)."""
    clock = t.tenant.app.state.clock
    at = clock.now()
    events: list[dict[str, Any]] = []

    def add(kind: str, **payload: Any) -> None:
        nonlocal at
        at += timedelta(seconds=1)
        events.append({"device": serial, "device_session": f"run-{session_id}", "seq": len(events) + 1,
                       "session_id": session_id, "kind": kind, "at": at.isoformat(), "payload": payload})

    add("run_started", mode="control", device={"model": "magstim-rapid2", "serial": serial})
    add("programmed", parameters={"trains": 75})
    for train in range(1, trains + 1):
        add("train_started", train=train, planned_pulses=pulses_per_train)
        add("train_ended", train=train, delivered_pulses=pulses_per_train, completed=True)
    add("run_ended", status="interrupted", reason="stopped by the technician")
    ok(t.tenant.client("agent").post("/api/v1/agent/events", json={"events": events}))


def error(response: Any, status: int = 409) -> dict[str, Any]:
    """The error body of a refusal with ``status``."""
    assert response.status_code == status, response.text
    return dict(response.json()["error"])
