"""A disarm the unit never receives, end to end: the agent process drives a simulator on a real pty, the
unit loses every disable the driver sends at the end of the protocol, and the chair must say so."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from service.models.sessions import DeliveryEventRow
from tests.agent.conftest import AgentFactory, LiveServer, wait_for_end, world_with_command
from tests.agent.test_faults import SHORT, assert_disarmed, live_pulses, wait_until
from tests.conftest import Tenant

MAY_BE_ARMED = "unit may be armed: press its stop"


def test_unconfirmed_disarm_ends_the_session_with_the_warning_and_the_chair_clears_after_a_status_read(
    live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory, sim_process, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    model = "magventure-x100"
    world = world_with_command(live_tenant, tag="fclose", model=model, protocol=SHORT)
    sim = sim_process(model, 10.0)
    agent_process(live.base, live_tenant, world.chair_id, model, device=sim.path, speed=10.0,
                  outbox=tmp_path / "outbox.db")
    wait_until(lambda: live_pulses(live.app, world.session_id) >= 40, 60, "delivery to start")
    sim.script("fault drop_command=3@disarm")  # the three disables of the closing disarm are lost on the line
    ts = wait_for_end(live.app, world.session_id)
    assert ts.status == "interrupted" and MAY_BE_ARMED in (ts.end_reason or ""), ts.end_reason
    with Session(live.app.state.engine) as s:
        rows = s.exec(select(DeliveryEventRow).where(DeliveryEventRow.session_id == world.session_id)).all()
        faults = [r.payload for r in rows if r.kind == "fault"]
    assert any(f.get("error") == "DisarmUnconfirmed" and MAY_BE_ARMED in f.get("message", "") for f in faults)
    assert_disarmed(live.app, world.chair_id)  # the next disable got through; a status read confirmed it
