"""The real path: service HTTP API ← agent process ← simulated stimulator (sim://), counts exact."""

from __future__ import annotations

from sqlmodel import Session, func, select

from service.models.sessions import DeliveryEventRow
from tests.agent.conftest import AgentFactory, LiveServer, wait_for_end, world_with_command
from tests.conftest import Tenant

TEN_HZ = {"intensity_percent": 60, "frequency_hz": 10.0, "pulses_per_train": 40, "trains": 75,
          "inter_train_interval_s": 26.0, "burst_pulses": 1, "burst_ipi_ms": None}
ITBS = {"intensity_percent": 55, "frequency_hz": 5.0, "pulses_per_train": 30, "trains": 20,
        "inter_train_interval_s": 8.0, "burst_pulses": 3, "burst_ipi_ms": 20.0}


def _events(app: object, session_id: int, kind: str) -> int:
    with Session(app.state.engine) as s:  # type: ignore[attr-defined]
        return int(s.exec(select(func.count()).select_from(DeliveryEventRow).where(
            DeliveryEventRow.session_id == session_id, DeliveryEventRow.kind == kind)).one())


def test_control_mode_10hz_3000_pulses(live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory) -> None:
    world = world_with_command(live_tenant, tag="c10", model="magstim-rapid2", protocol=TEN_HZ)
    agent_process(live.base, live_tenant, world.chair_id, "magstim-rapid2", speed=0)
    ts = wait_for_end(live.app, world.session_id, timeout_s=180)
    assert ts.status == "completed", ts.end_reason
    assert (ts.pulses_delivered, ts.trains_delivered) == (3000, 75)
    assert _events(live.app, world.session_id, "train_ended") == 75
    assert ts.programmed and ts.programmed["intensity_a"] == 60


def test_control_mode_itbs_600_pulses(live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory) -> None:
    world = world_with_command(live_tenant, tag="citbs", model="magventure-x100", protocol=ITBS)
    agent_process(live.base, live_tenant, world.chair_id, "magventure-x100", speed=0)
    ts = wait_for_end(live.app, world.session_id, timeout_s=180)
    assert ts.status == "completed", ts.end_reason
    assert (ts.pulses_delivered, ts.trains_delivered) == (600, 20)
