"""An agent's side of a delivery, spoken through the API: take the chair's command, report a run's events.

For service tests that need a run whose shape they choose exactly (a crash mid-train, a unit that went on
alone); the real agent against the simulator is tested in tests/agent and tests/faults.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.clinic import ok


class ScriptedRun:
    """The events of one run, timed from ``at`` as the device reported them."""

    def __init__(self, session_id: int, run: str, at: datetime, *, device: str = "SER-script") -> None:
        # The run's name is the idempotency key's middle part: unique per session, as the agent's own are.
        self.session_id, self.run, self.at, self.device = session_id, f"{run}-s{session_id}", at, device
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, after_s: float = 0.1, **payload: Any) -> None:
        self.at += timedelta(seconds=after_s)
        self.events.append({"device": self.device, "device_session": self.run, "seq": len(self.events) + 1,
                            "session_id": self.session_id, "kind": kind, "at": self.at.isoformat(),
                            "payload": payload})

    def start(self, *, device_count: int | None = None, protocol: dict[str, Any] | None = None) -> None:
        self.add("run_started", mode="control", device={"serial": self.device}, device_count=device_count,
                 **({"protocol": protocol} if protocol is not None else {}))
        self.add("programmed", parameters={"intensity_a": 60})

    def trains(self, first: int, count: int, pulses: int, seconds: float, iti_s: float,
               per_pulse: bool = False) -> None:
        """Whole trains as the device reports them (a MagPro pulse by pulse, a Rapid² once per train)."""
        for train in range(first, first + count):
            self.add("train_started", after_s=iti_s, train=train, planned_pulses=pulses)
            if per_pulse:
                for _ in range(pulses):
                    self.add("pulses_delivered", after_s=seconds / pulses, count=1, train=train)
            else:
                self.add("pulses_delivered", after_s=seconds, count=pulses, train=train)
            self.add("train_ended", after_s=0.01, train=train, delivered_pulses=pulses, completed=True)

    def send(self, agent: TestClient) -> None:
        for i in range(0, len(self.events), 500):
            ok(agent.post("/api/v1/agent/events", json={"events": self.events[i:i + 500]}))
        self.events = []


def take(agent: TestClient, chair_id: int) -> list[dict[str, Any]]:
    """The chair's pending commands, as its agent takes them."""
    return list(ok(agent.get("/api/v1/agent/commands", params={"chair_id": chair_id})))


def deliver_command(agent: TestClient, chair_id: int) -> dict[str, Any]:
    """The one deliver command waiting for the chair; its protocol."""
    commands = take(agent, chair_id)
    assert [c["kind"] for c in commands] == ["deliver"], commands
    return dict(commands[0]["payload"]["protocol"])
