"""Check-in to completed session through the whole stack: API → agent process → sim:// → database."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.models.sessions import ChairCommand
from tests.agent.conftest import AgentFactory, LiveServer, wait_for_end
from tests.agent.flow import check_in_and_ready, treatable_booking
from tests.builders.clinic import WRITE, ok
from tests.conftest import Tenant


@pytest.mark.parametrize(("model", "protocol_id", "pulses", "trains"), [
    ("magstim-rapid2", "hf10_3000_iti26", 3000, 75),
    ("magventure-x100", "itbs_600", 600, 20),
])
def test_control_mode_session_from_check_in_to_completed(
    live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory,
    model: str, protocol_id: str, pulses: int, trains: int,
) -> None:
    t = treatable_booking(live_tenant, model=model, protocol_id=protocol_id)
    session = check_in_and_ready(t)
    assert session["status"] == "ready_to_start"
    preflight = ok(t.tech.get(f"/api/v1/sessions/{session['id']}/preflight"))
    assert preflight["blockers"] == [] and preflight["dose"]["output_pct_mso"] == 60  # 120% × MT 50%
    started = ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    assert started["status"] == "programming" and started["cpt_code"] == "90867"
    agent_process(live.base, live_tenant, t.chair_id, model)
    ended = wait_for_end(live.app, session["id"])
    assert ended.status == "completed", ended.end_reason
    assert (ended.pulses_delivered, ended.trains_delivered, ended.output_pct_mso) == (pulses, trains, 60)
    record = ok(t.tech.get(f"/api/v1/sessions/{session['id']}"))
    assert len(record["trains"]) == trains
    assert all(tr["delivered_pulses"] == pulses // trains for tr in record["trains"])
    assert record["programmed"]["intensity_a"] == 60 and record["coil_position"]["method"] == "beam_f3"
    booking = ok(t.tech.get(f"/api/v1/bookings/{t.booking_id}"))
    assert booking["status"] == "completed"


def test_a_blocked_start_sends_nothing_to_the_chair(live: LiveServer, live_tenant: Tenant) -> None:
    t = treatable_booking(live_tenant, mt_pct_mso=90)  # 120% of 90% = 108% of machine output
    session = check_in_and_ready(t)
    refused = t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE)
    assert refused.status_code == 409 and "above the device maximum of 100%" in refused.json()["error"]["message"]
    with Session(live.app.state.engine) as s:
        assert s.exec(select(ChairCommand).where(ChairCommand.session_id == session["id"])).first() is None
    assert ok(t.tech.get(f"/api/v1/sessions/{session['id']}"))["status"] == "ready_to_start"


def test_live_progress_streams_until_the_session_ends(
    live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory,
) -> None:
    import json

    import httpx

    t = treatable_booking(live_tenant, model="magventure-x100", protocol_id="itbs_600")
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    agent_process(live.base, live_tenant, t.chair_id, "magventure-x100", speed=10)
    token = live_tenant.tokens["technician"]
    updates = []
    with httpx.stream("GET", f"{live.base}/api/v1/sessions/{session['id']}/progress",
                      headers={"Authorization": f"Bearer {token}"}, timeout=120) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                updates.append(json.loads(line[6:]))
    assert updates[-1]["status"] == "completed" and updates[-1]["pulses_delivered"] == 600
    pulses = [u["pulses_delivered"] for u in updates]
    assert pulses == sorted(pulses) and len(set(pulses)) > 3  # the bar moved, forwards only
    assert any(u["status"] == "delivering" and 1 <= u["train"] <= 20 and u["seconds_left"] > 0 for u in updates)
