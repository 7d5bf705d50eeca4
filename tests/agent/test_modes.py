"""Record mode (the technician starts the protocol at the device), and stopping: at the device or from the page.

These use a simulator process on a real pty, so the test can act at the unit's front panel over its stdin.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.agent.conftest import AgentFactory, LiveServer, SimProcess, wait_for_end, wait_for_status
from tests.agent.flow import check_in_and_ready, treatable_booking
from tests.builders.clinic import WRITE, ok
from tests.conftest import Tenant

SPEED = 100


@pytest.mark.parametrize(("protocol_id", "pulses", "trains"), [("hf10_3000_iti26", 3000, 75), ("itbs_600", 600, 20)])
def test_record_mode_session_started_at_the_device(
    live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory, sim_process: Callable[..., SimProcess],
    protocol_id: str, pulses: int, trains: int,
) -> None:
    sim = sim_process("magventure-x100", SPEED)
    t = treatable_booking(live_tenant, model="magventure-x100", protocol_id=protocol_id, mode="record")
    session = check_in_and_ready(t)
    assert ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))["mode"] == "record"
    agent_process(live.base, live_tenant, t.chair_id, "magventure-x100", device=sim.path, speed=SPEED)
    wait_for_status(live.app, session["id"], {"ready"})  # programmed from the prescription and read back
    sim.script("panel start")  # the technician presses start on the unit
    ended = wait_for_end(live.app, session["id"], timeout_s=120)
    assert ended.status == "completed", ended.end_reason
    assert (ended.pulses_delivered, ended.trains_delivered) == (pulses, trains)


def test_stop_at_the_device_interrupts_and_disarms(
    live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory, sim_process: Callable[..., SimProcess],
) -> None:
    sim = sim_process("magventure-x100", 20)
    t = treatable_booking(live_tenant, model="magventure-x100", mode="record")
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    agent_process(live.base, live_tenant, t.chair_id, "magventure-x100", device=sim.path, speed=20)
    wait_for_status(live.app, session["id"], {"ready"})
    sim.script("panel start")
    wait_for_status(live.app, session["id"], {"delivering"})
    sim.script("panel stop")
    ended = wait_for_end(live.app, session["id"])
    assert ended.status == "interrupted" and 0 < ended.pulses_delivered < 3000, ended.end_reason


def test_stop_from_the_page_interrupts_and_resume_delivers_the_rest(
    live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory,
) -> None:
    t = treatable_booking(live_tenant, model="magventure-x100", protocol_id="itbs_600")
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    agent_process(live.base, live_tenant, t.chair_id, "magventure-x100", speed=5)
    wait_for_status(live.app, session["id"], {"delivering"})
    stopped = t.tech.post(f"/api/v1/sessions/{session['id']}/stop", json={"reason": "patient asked to stop"},
                          headers=WRITE)
    assert stopped.status_code == 200, stopped.text
    ended = wait_for_end(live.app, session["id"])
    assert ended.status == "interrupted" and ended.end_reason == "patient asked to stop"
    assert ended.trains_delivered < 20
    resumed = ok(t.tech.post(f"/api/v1/sessions/{session['id']}/resume", headers=WRITE))
    assert resumed["status"] == "programming"
    final = wait_for_end(live.app, session["id"], timeout_s=120)
    # The prescription's pulses are the budget: the stopped train's remainder comes as a shortened last train
    # (a third run) when the stop fell inside a train, and nothing beyond the 600 prescribed is given.
    assert final.status == "completed" and final.trains_delivered == 20 and final.runs in (2, 3)
    assert 600 - 2 <= final.pulses_delivered <= 600 and final.pulses_estimated == 0
