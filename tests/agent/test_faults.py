"""Faults during delivery: each ends the session truthfully, with every reported event stored exactly once.

"Exactly once" is checked against the agent's own outbox: every event it durably recorded is in the
database once, and nothing else is.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

from fastapi import FastAPI
from sqlmodel import Session, select

from service.models.sessions import ChairStatus, DeliveryEventRow, TreatmentSession
from tests.agent.conftest import (
    AgentFactory,
    DeliveryWorld,
    LiveServer,
    start_server,
    stop_server,
    wait_for_end,
    world_with_command,
)
from tests.agent.proxy import CuttableProxy
from tests.conftest import Tenant
from tests.faults.evidence import outbox_kinds

# 10 trains of 40 pulses at 10 Hz, 5 s apart: 90 s of device time.
SHORT = {"intensity_percent": 55, "frequency_hz": 10.0, "pulses_per_train": 40, "trains": 10,
         "inter_train_interval_s": 5.0, "burst_pulses": 1, "burst_ipi_ms": None}
TEN_HZ = {"intensity_percent": 60, "frequency_hz": 10.0, "pulses_per_train": 40, "trains": 75,
          "inter_train_interval_s": 26.0, "burst_pulses": 1, "burst_ipi_ms": None}


def outbox_keys(path: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(path) as db:
        return [tuple(r) for r in db.execute("SELECT device, device_session, seq FROM outbox ORDER BY id")]


def stored_keys(app: FastAPI, session_id: int) -> list[tuple[str, str, int]]:
    with Session(app.state.engine) as s:
        rows = s.exec(select(DeliveryEventRow).where(DeliveryEventRow.session_id == session_id)).all()
        return [(r.device, r.device_session, r.seq) for r in rows]


def wait_until(predicate, timeout_s: float = 60, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def live_pulses(app: FastAPI, session_id: int) -> int:
    with Session(app.state.engine) as s:
        ts = s.get(TreatmentSession, session_id)
        return ts.live_pulses if ts else 0


def assert_exactly_once(app: FastAPI, session_id: int, outbox: Path) -> None:
    wait_until(lambda: sorted(stored_keys(app, session_id)) == sorted(outbox_keys(outbox)), 30, "outbox drained")
    keys = stored_keys(app, session_id)
    assert len(keys) == len(set(keys)) == len(outbox_keys(outbox))


def assert_disarmed(app: FastAPI, chair_id: int) -> None:
    def disarmed() -> bool:
        with Session(app.state.engine) as s:
            status = s.get(ChairStatus, chair_id)
            return status is not None and status.state in ("disarmed", None) and status.active_session_id is None
    wait_until(disarmed, 30, "the chair to report a disarmed device")


def _magpro_with_fault(live: LiveServer, tenant: Tenant, agent_process: AgentFactory, tmp_path: Path,
                       fault: str) -> tuple[DeliveryWorld, Path, TreatmentSession]:
    """A short MagPro session whose simulated unit has ``fault``, run by an agent process to its end."""
    model = "magventure-x100"
    world = world_with_command(tenant, tag=f"f{fault[:4]}", model=model, protocol=SHORT)
    outbox = tmp_path / "outbox.db"
    # An in-process unit is a new one each time the agent opens it: the line to this one never comes back.
    agent_process(live.base, tenant, world.chair_id, model, device=f"sim://{model}?faults={fault}", speed=0,
                  outbox=outbox, reconnect_s=0)
    return world, outbox, wait_for_end(live.app, world.session_id)


def test_a_device_fault_mid_train_disarms_and_counts_what_was_given(
        live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory, tmp_path: Path) -> None:
    world, outbox, ts = _magpro_with_fault(live, live_tenant, agent_process, tmp_path, "coil_overtemp@pulse=120")
    assert ts.status == "interrupted" and "coil" in (ts.end_reason or "").lower(), ts.end_reason
    assert 0 < ts.pulses_delivered < 400 and ts.pulses_estimated == 0, (ts.pulses_delivered, ts.pulses_estimated)
    assert_exactly_once(live.app, world.session_id, outbox)
    assert_disarmed(live.app, world.chair_id)


def test_a_magpro_unplugged_mid_sequence_is_counted_as_giving_its_whole_program(
        live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory, tmp_path: Path) -> None:
    """The line goes at pulse 200; the unit runs its sequence alone and nothing can stop it from here, so the
    record counts the run's whole program (400), the pulses no report named estimated, and nothing remains."""
    world, outbox, ts = _magpro_with_fault(live, live_tenant, agent_process, tmp_path, "unplug@pulse=200")
    assert ts.status == "interrupted" and "disconnected" in (ts.end_reason or "").lower(), ts.end_reason
    assert "nothing confirmed it stopped" in (ts.end_reason or ""), ts.end_reason
    assert 0 < ts.pulses_recorded < 400, ts.pulses_recorded
    assert (ts.pulses_delivered, ts.pulses_estimated, ts.pulses_trusted) == (400, 400 - ts.pulses_recorded,
                                                                             "estimate")
    assert_exactly_once(live.app, world.session_id, outbox)


def test_agent_killed_and_restarted_mid_session(live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory,
                                                tmp_path: Path) -> None:
    world = world_with_command(live_tenant, tag="kill", model="magventure-x100", protocol=SHORT)
    outbox = tmp_path / "outbox.db"
    first = agent_process(live.base, live_tenant, world.chair_id, "magventure-x100", speed=10, outbox=outbox)
    wait_until(lambda: live_pulses(live.app, world.session_id) >= 40, 60, "delivery to start")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    agent_process(live.base, live_tenant, world.chair_id, "magventure-x100", speed=10, outbox=outbox)
    ts = wait_for_end(live.app, world.session_id)
    assert ts.status == "interrupted" and "agent" in (ts.end_reason or ""), ts.end_reason
    assert_exactly_once(live.app, world.session_id, outbox)
    assert_disarmed(live.app, world.chair_id)


def test_a_restarted_agent_that_cannot_open_the_unit_estimates_the_whole_open_train(
        live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory, tmp_path: Path) -> None:
    """The agent dies during a Rapid² train (which reports its pulses only when it ends) and its successor cannot
    open the unit, so never sees it disarmed: nothing bounds that train's end, and all its pulses are estimated
    (not those a clock would fit between its start and the successor's)."""
    world = world_with_command(live_tenant, tag="nodev", model="magstim-rapid2", protocol=SHORT)
    outbox = tmp_path / "outbox.db"
    first = agent_process(live.base, live_tenant, world.chair_id, "magstim-rapid2", speed=1, outbox=outbox)

    def mid_train() -> bool:
        kinds = [kind for kind, _ in outbox_kinds(outbox, world.session_id)]
        return "train_started" in kinds and "train_ended" not in kinds

    wait_until(mid_train, 60, "the first train to start")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    agent_process(live.base, live_tenant, world.chair_id, "magstim-rapid2", device=str(tmp_path / "no-such-port"),
                  outbox=outbox)
    ts = wait_for_end(live.app, world.session_id)
    assert (ts.status, ts.pulses_recorded, ts.pulses_estimated, ts.pulses_trusted) == (
        "interrupted", 0, 40, "estimate"), (ts.status, ts.pulses_recorded, ts.pulses_estimated)
    with sqlite3.connect(outbox) as db:
        (payload,) = db.execute("SELECT payload FROM outbox WHERE kind = 'run_ended'").fetchone()
    assert json.loads(payload)["disarmed"] is False
    assert_exactly_once(live.app, world.session_id, outbox)


def test_service_restarted_mid_session(live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory,
                                       tmp_path: Path) -> None:
    world = world_with_command(live_tenant, tag="rest", model="magventure-x100", protocol=SHORT)
    outbox = tmp_path / "outbox.db"
    agent_process(live.base, live_tenant, world.chair_id, "magventure-x100", speed=10, outbox=outbox)
    wait_until(lambda: live_pulses(live.app, world.session_id) >= 40, 60, "delivery to start")
    port = int(live.base.rsplit(":", 1)[1])
    stop_server(live)
    time.sleep(3)
    restarted = start_server(live.app, port=port)
    try:
        ts = wait_for_end(live.app, world.session_id)
        assert ts.status == "completed", ts.end_reason
        assert (ts.pulses_delivered, ts.trains_delivered) == (400, 10)
        assert_exactly_once(live.app, world.session_id, outbox)
    finally:
        stop_server(restarted)


def test_network_cut_for_60_seconds(live: LiveServer, live_tenant: Tenant, agent_process: AgentFactory,
                                    tmp_path: Path) -> None:
    world = world_with_command(live_tenant, tag="net", model="magventure-x100", protocol=SHORT)
    proxy = CuttableProxy(int(live.base.rsplit(":", 1)[1]))
    outbox = tmp_path / "outbox.db"
    try:
        agent_process(proxy.base, live_tenant, world.chair_id, "magventure-x100", speed=5, outbox=outbox)
        wait_until(lambda: live_pulses(live.app, world.session_id) >= 40, 60, "delivery to start")
        proxy.cut()
        seen_at_cut = len(stored_keys(live.app, world.session_id))
        time.sleep(60)
        # Delivery went on at the chair: the agent recorded far more than the service saw.
        assert len(outbox_keys(outbox)) > seen_at_cut
        proxy.restore()
        ts = wait_for_end(live.app, world.session_id, timeout_s=90)
        assert ts.status == "completed", ts.end_reason
        assert (ts.pulses_delivered, ts.trains_delivered) == (400, 10)
        assert_exactly_once(live.app, world.session_id, outbox)
    finally:
        proxy.close()
