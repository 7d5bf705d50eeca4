"""SIGKILL loops: the service, then the agent, killed at seeded random points of deliveries.

After every delivery: each event of the agent's outbox stored exactly once and nothing else; the session
says what its stored events say (completed only with every train delivered in full); the chair reports
a disarmed device. After the loop the audit chain verifies (`tmsops audit verify`).
The same loops run longer in `python -m bench.faults --rounds N`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from tests.conftest import PG_ENV, Database
from tests.faults.loops import (
    AFTER_TAKE,
    BETWEEN_TRAINS,
    FINAL_FLUSH,
    MID_TRAIN,
    Tally,
    agent_kill_loop,
    audit_verify,
    service_kill_loop,
)
from tests.faults.processes import AgentProcess, ServiceProcess
from tests.faults.rig import Rig

# At least 25 kills of each kind per suite run: split over the two databases when PostgreSQL runs too (CI).
KILLS = 13 if os.environ.get(PG_ENV) else 25


def test_service_sigkilled_during_deliveries_loses_doubles_and_misreports_nothing(
        database: Database, served: ServiceProcess, rig: Rig, start_agent: Callable[[float], AgentProcess],
        fault_seed: int) -> None:
    agent = start_agent(20)
    tally = service_kill_loop(rig, served, agent, random.Random(fault_seed), KILLS,
                              Tally(f"service SIGKILL on {database.kind}", fault_seed))
    print(tally.report())
    assert tally.kills >= KILLS and tally.events > 0
    assert tally.clean, tally.report()
    verified = audit_verify(database.url)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_agent_sigkilled_after_take_mid_train_between_trains_and_in_the_flush_misreports_nothing(
        database: Database, served: ServiceProcess, rig: Rig, start_agent: Callable[[float], AgentProcess],
        fault_seed: int) -> None:
    agent = start_agent(20)
    tally = agent_kill_loop(rig, served, agent, random.Random(fault_seed), KILLS,
                            Tally(f"agent SIGKILL on {database.kind}", fault_seed))
    print(tally.report())
    assert tally.kills >= KILLS and tally.events > 0
    assert {AFTER_TAKE, MID_TRAIN, BETWEEN_TRAINS, FINAL_FLUSH} <= set(tally.phases), tally.report()
    assert tally.clean, tally.report()
    # The starts the dead agents took and never recorded ended 'interrupted', each with the reason.
    lost = [(status, reason) for first, status, reason in tally.ended if first == AFTER_TAKE]
    assert lost and all(status == "interrupted" and "lost this session" in (reason or "") for status, reason in lost)
    verified = audit_verify(database.url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
