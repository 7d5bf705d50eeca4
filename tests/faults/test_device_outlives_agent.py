"""A unit outlives its agent: a MagPro runs its sequence on its own after the agent is SIGKILLed.

The pulses it gives until the restarted agent disarms it reach no outbox; the restarted agent reads the
unit's own stimulus counter (noted at the run's start) and the session counts them, saying so. Without
it the record said e.g. 41 pulses where the unit had given 120.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from service.models.sessions import ChairStatus
from tests.conftest import PASSWORD
from tests.faults.evidence import judge, outbox_kinds, wait_for_end, wait_until
from tests.faults.processes import AgentProcess, ServiceProcess, SimulatorProcess
from tests.faults.rig import Rig, protocol

SPEED = 10  # the unit's clock and the agent's, in step: 0.4 s trains, 0.5 s pauses


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[SimulatorProcess]:
    sim = SimulatorProcess("magventure-x100", SPEED, tmp_path)
    yield sim
    sim.stop()


def _agent(rig: Rig, served: ServiceProcess, unit: SimulatorProcess, tmp_path: Path,
           device: Path | None = None) -> AgentProcess:
    secret = tmp_path / "agent.secret"
    secret.write_text(PASSWORD)
    return AgentProcess(served.base, rig.chair_id, rig.model, rig.tenant.usernames["agent"], secret,
                        tmp_path / "outbox.db", tmp_path, SPEED, device=str(device or unit.path))


def test_pulses_a_magpro_gave_while_its_agent_was_dead_are_counted_from_its_own_counter(
        rig: Rig, served: ServiceProcess, unit: SimulatorProcess, tmp_path: Path) -> None:
    agent = _agent(rig, served, unit, tmp_path)
    try:
        agent.start()
        session_id = rig.start_session(protocol(8, 40))
        wait_until(lambda: [k for k, _ in outbox_kinds(agent.outbox, session_id)].count("train_started") >= 2,
                   60, "the second train")
        agent.kill()
        recorded = sum(1 for k, _ in outbox_kinds(agent.outbox, session_id) if k == "pulses_delivered")
        wait_until(lambda: unit.pulses() >= recorded + 40, 60, "the unit to go on without its agent")
        agent.start()
        ts = wait_for_end(rig.engine, session_id, 60)
        given = unit.pulses()
        assert given > recorded  # it did go on
        assert ts.status == "interrupted" and ts.pulses_delivered == given, (ts.pulses_delivered, given, recorded)
        assert ts.end_reason and f"{given - recorded} of them delivered while no agent recorded them" in ts.end_reason
        verdict = judge(rig.engine, session_id, agent.outbox)
        assert verdict.ok, verdict
    finally:
        agent.kill()


@dataclass
class LostLine:
    agent: AgentProcess
    port: Path  # the agent's port: a link, as /dev/serial/by-id names are, to the unit's pty
    start: int  # the unit's count before the session
    session_id: int


def _pull_the_cable(rig: Rig, served: ServiceProcess, unit: SimulatorProcess, tmp_path: Path,
                    trains: int) -> LostLine:
    """A session of ``trains`` trains of 40 whose cable is pulled at the unit's 60th pulse (its second train)."""
    port = tmp_path / "magpro-port"
    port.symlink_to(unit.path)
    agent = _agent(rig, served, unit, tmp_path, device=port)
    agent.start()
    start = unit.pulses()
    unit.script(f"fault unplug@pulse={start + 60}")
    session_id = rig.start_session(protocol(trains, 40))
    wait_until(lambda: unit.pulses() >= start + 60, 60, "the cable to be pulled")
    return LostLine(agent, port, start, session_id)


def test_a_magpro_whose_line_is_lost_mid_sequence_is_never_counted_below_what_it_gave(
        rig: Rig, served: ServiceProcess, unit: SimulatorProcess, tmp_path: Path) -> None:
    """The cable is pulled during the second train and stays out. The unit runs its sequence on alone (nothing on
    the chair can stop it now), so the record counts the run's whole program, estimated beyond what was reported,
    and the unit's own count, read when it has finished, is no more than that. Before, the record said what the
    agent had heard plus one train, and a resume budgeted on it gave the patient pulses a second time."""
    lost = _pull_the_cable(rig, served, unit, tmp_path, 5)
    try:
        lost.port.unlink()  # no other unit can take the old pty's name meanwhile

        def waiting_for_the_line() -> bool:
            with Session(rig.engine) as s:
                status = s.get(ChairStatus, rig.chair_id)
                return status is not None and status.active_session_id == lost.session_id and not status.connected
        wait_until(waiting_for_the_line, 10, "the chair shown not connected while its run waits for the line")
        ts = wait_for_end(rig.engine, lost.session_id, 60)
        wait_until(lambda: unit.pulses() - lost.start >= 200, 60, "the unit to finish its sequence alone")
        given = unit.pulses() - lost.start
        assert ts.status == "interrupted" and "Disconnected" in (ts.end_reason or ""), ts.end_reason
        assert "nothing confirmed it stopped" in (ts.end_reason or ""), ts.end_reason
        assert ts.pulses_recorded < given <= ts.pulses_delivered == 200, (
            ts.pulses_recorded, given, ts.pulses_delivered)
        assert (ts.pulses_estimated, ts.pulses_trusted) == (200 - ts.pulses_recorded, "estimate")
        verdict = judge(rig.engine, lost.session_id, lost.agent.outbox)
        assert verdict.ok, verdict
    finally:
        lost.agent.kill()


def test_a_magpro_whose_line_comes_back_is_stopped_and_counted_from_its_own_counter(
        rig: Rig, served: ServiceProcess, unit: SimulatorProcess, tmp_path: Path) -> None:
    """The cable is pulled during the second train and plugged back in a moment later (the agent's port link
    re-pointed to the unit's new pty). The agent, waiting for the line, opens the unit (which disarms it: the
    sequence stops), reads its counter, and ends the run with the unit's own count: nothing estimated, and the
    rest of the prescription left for a resume."""
    lost = _pull_the_cable(rig, served, unit, tmp_path, 8)
    try:
        time.sleep(0.5)  # a few more pulses, given with no line
        relinked = tmp_path / "magpro-port.new"
        relinked.symlink_to(unit.plug())
        relinked.replace(lost.port)
        ts = wait_for_end(rig.engine, lost.session_id, 60)
        given = unit.pulses() - lost.start
        assert ts.status == "interrupted" and "the line came back" in (ts.end_reason or ""), ts.end_reason
        assert (ts.pulses_delivered, ts.pulses_trusted, ts.pulses_estimated) == (given, "unit", 0), (
            ts.pulses_delivered, given, ts.pulses_recorded)
        assert ts.pulses_recorded < given < 320, (ts.pulses_recorded, given)  # it went on, and it was stopped
        assert ts.pulses_unit_only == given - ts.pulses_recorded
        verdict = judge(rig.engine, lost.session_id, lost.agent.outbox)
        assert verdict.ok, verdict
    finally:
        lost.agent.kill()
