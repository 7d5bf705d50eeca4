"""The coil temperature the chair page shows during a delivery comes from the agent's heartbeats: a steady coil
must not read as unknown just because the driver reports a temperature only when it changes."""

from __future__ import annotations

import json

import httpx

from tests.agent.conftest import AgentFactory, LiveServer
from tests.agent.flow import check_in_and_ready, treatable_booking
from tests.builders.clinic import WRITE, ok
from tests.conftest import Tenant


def test_progress_reports_the_coil_temperature_throughout_delivery(
    live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory,
) -> None:
    t = treatable_booking(live_tenant, model="magventure-x100", protocol_id="itbs_600")
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    agent_process(live.base, live_tenant, t.chair_id, "magventure-x100", speed=5)
    token = live_tenant.tokens["technician"]
    delivering = []
    with httpx.stream("GET", f"{live.base}/api/v1/sessions/{session['id']}/progress",
                      headers={"Authorization": f"Bearer {token}"}, timeout=180) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                update = json.loads(line[6:])
                if update["status"] == "delivering":
                    delivering.append(update)
    assert len(delivering) > 5
    # Heartbeats sent while the run holds the device keep the temperature known from first update to last.
    assert all(u["coil_temp_c"] is not None for u in delivering), [u["coil_temp_c"] for u in delivering]
    lefts = [u["seconds_left"] for u in delivering]
    assert lefts == sorted(lefts, reverse=True), lefts  # time left never jumps back up
