"""Fixtures for the fault suites: a real `tmsops serve` on the test database, a rig, a chair agent, a seed."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from service.models.sessions import ChairStatus
from tests.conftest import PASSWORD, Database
from tests.faults.evidence import wait_until
from tests.faults.processes import AgentProcess, ServiceProcess
from tests.faults.rig import Rig

# Short, so that a start lost by a killed agent ends within a round (the default is 30 s).
LOST_AFTER_S = "2"
SEED_ENV = "TMS_FAULT_SEED"


@pytest.fixture
def fault_seed() -> int:
    """The seed of this run's kill points: TMS_FAULT_SEED replays a failure; printed, so a failure shows it."""
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**31))
    print(f"fault seed {seed} (replay with {SEED_ENV}={seed})")
    return seed


@pytest.fixture
def served(database: Database, tmp_path: Path) -> Iterator[ServiceProcess]:
    """`tmsops serve` in its own process on the session's test database."""
    service = ServiceProcess(database.url, tmp_path, env={"TMS_SESSION_LOST_AFTER_S": LOST_AFTER_S})
    service.start()
    yield service
    service.kill()


@pytest.fixture
def rig(database: Database) -> Rig:
    return Rig.create(database.url, database.engine, "magventure-x100", "fault")


def chair_agent(rig: Rig, service: ServiceProcess, tmp_path: Path, speed: float) -> AgentProcess:
    """A started agent for the rig's chair, once its first heartbeat arrived (so it is polling)."""
    secret = tmp_path / "agent.secret"
    secret.write_text(PASSWORD)
    agent = AgentProcess(service.base, rig.chair_id, rig.model, rig.tenant.usernames["agent"], secret,
                         tmp_path / "outbox.db", tmp_path, speed)
    agent.start()

    def beating() -> bool:
        with Session(rig.engine) as s:
            return s.get(ChairStatus, rig.chair_id) is not None

    wait_until(beating, 60, "the agent's first heartbeat")
    return agent


@pytest.fixture
def start_agent(rig: Rig, served: ServiceProcess, tmp_path: Path) -> Iterator[Callable[[float], AgentProcess]]:
    """Start the rig chair's agent at a device speed (0: virtual time); every one is killed at the end."""
    agents: list[AgentProcess] = []

    def start(speed: float) -> AgentProcess:
        agents.append(chair_agent(rig, served, tmp_path, speed))
        return agents[-1]

    yield start
    for agent in agents:
        agent.kill()
