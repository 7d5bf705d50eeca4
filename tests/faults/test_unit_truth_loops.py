"""The unit's own count is the truth: after every round of an agent SIGKILL loop, on both vendor families,
the pulses the unit gave equal the pulses recorded plus those counted by its own counter, the estimate
(flagged) bounds what no report or counter tells, and nothing exceeds the prescription.

The unit is a simulator process on a pty, so it outlives each agent as hardware does (a MagPro runs its
sequence on alone; a Rapid²'s keep-alive watchdog disarms it within a second). Rapid² runs at real speed:
its open train is estimated from timestamps, and a scaled device clock would stamp them in another time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from service.core.clock import as_utc
from service.models.sessions import ChairStatus, TreatmentSession
from tests.conftest import PASSWORD, Database
from tests.faults.evidence import judge, wait_for_end, wait_until
from tests.faults.loops import BETWEEN_TRAINS, MID_TRAIN, kill_agent_at, phase
from tests.faults.processes import AgentProcess, ServiceProcess, SimulatorProcess
from tests.faults.rig import Rig, protocol

SPEEDS = {"magstim-rapid2": 1, "magventure-x100": 10}
AIMS = [MID_TRAIN, BETWEEN_TRAINS, MID_TRAIN, "any moment"]


@dataclass
class UnitRig:
    rig: Rig
    unit: SimulatorProcess
    agent: AgentProcess


@pytest.fixture(params=sorted(SPEEDS))
def unit_rig(request: pytest.FixtureRequest, database: Database, served: ServiceProcess,
             tmp_path: Path) -> Iterator[UnitRig]:
    model = str(request.param)
    rig = Rig.create(database.url, database.engine, model, f"unit-{model}")
    unit = SimulatorProcess(model, SPEEDS[model], tmp_path)
    secret = tmp_path / "agent.secret"
    secret.write_text(PASSWORD)
    agent = AgentProcess(served.base, rig.chair_id, model, rig.tenant.usernames["agent"], secret,
                         tmp_path / "outbox.db", tmp_path, SPEEDS[model], device=unit.path)
    try:
        agent.start()
        yield UnitRig(rig, unit, agent)
    finally:
        agent.kill()
        unit.stop()


def _disarmed_after(rig: Rig, ts: TreatmentSession) -> bool:
    with Session(rig.engine) as s:
        status = s.get(ChairStatus, rig.chair_id)
        return (status is not None and ts.ended_at is not None and as_utc(status.seen_at) > as_utc(ts.ended_at)
                and status.state in ("disarmed", None) and status.active_session_id is None)


def test_after_every_agent_kill_the_unit_gave_what_the_record_says_and_never_beyond_the_prescription(
        unit_rig: UnitRig, fault_seed: int) -> None:
    rig, unit, agent = unit_rig.rig, unit_rig.unit, unit_rig.agent
    rng = random.Random(fault_seed)
    counter = rig.model.startswith("magventure")
    problems: list[str] = []
    for n, aim in enumerate(AIMS, 1):
        before = unit.pulses()
        session_id = kill_agent_at(rig, agent, rng, aim, protocol(rng.randint(3, 4), 20))
        where = phase(rig, session_id, agent.outbox)
        agent.start()
        ts = wait_for_end(rig.engine, session_id, 120)
        wait_until(lambda ended=ts: _disarmed_after(rig, ended), 30, "a heartbeat reporting the chair disarmed")
        ts = wait_for_end(rig.engine, session_id, 1)
        given = unit.pulses() - before
        told = ts.pulses_recorded + ts.pulses_unit_only
        say = (f"round {n} ({aim}, killed {where}), session {session_id} {ts.status}: the unit gave {given}; "
               f"recorded {ts.pulses_recorded} + unit-counted {ts.pulses_unit_only} + estimated "
               f"{ts.pulses_estimated} (trusted: {ts.pulses_trusted}) of {ts.pulses_planned} prescribed")
        if counter and (given != told or ts.pulses_estimated):
            problems.append(say + ": the unit's counter covers every pulse, so recorded + counted must equal it")
        if not counter and not told <= given <= ts.pulses_delivered:
            problems.append(say + ": recorded must not exceed what it gave, nor the estimate fall short of it")
        if not counter and given > told and ts.pulses_estimated == 0:
            problems.append(say + ": pulses no report named are not estimated")
        if given > (ts.pulses_planned or 0) or ts.pulses_delivered > (ts.pulses_planned or 0):
            problems.append(say + ": beyond the prescription")
        verdict = judge(rig.engine, session_id, agent.outbox)
        if not verdict.ok:
            problems.append(f"{say}: {verdict}")
    assert not problems, f"seed {fault_seed}:\n" + "\n".join(problems)
