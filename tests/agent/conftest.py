"""A real HTTP server for the agent tests (the agent is a separate process speaking HTTP)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from service.app import create_app
from service.core.clock import FrozenClock
from service.core.db import session_scope
from service.models.sessions import ChairCommand, TreatmentSession
from tests.builders.delivery import DeliveryWorld, delivery_world
from tests.conftest import PASSWORD, Database, Tenant, make_tenant, settings_for
from tests.live import LiveServer, start_logged, start_server, stop_server


@pytest.fixture
def live(database: Database, clock: FrozenClock) -> Iterator[LiveServer]:
    """The app on a real port; the service's clock is frozen at T0 (a Monday morning), the agent's is its own."""
    app = create_app(settings_for(database.url), engine=database.engine, clock=clock)
    server = start_server(app)
    yield server
    stop_server(server)


@pytest.fixture
def live_tenant(live: LiveServer) -> Tenant:
    return make_tenant(live.app)


AgentFactory = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def agent_process(tmp_path: Path) -> Iterator[AgentFactory]:
    """Start `tmsops agent` processes; all are killed at the end of the test."""
    procs: list[subprocess.Popen[bytes]] = []
    secret = tmp_path / "agent.secret"
    secret.write_text(PASSWORD)

    def start(base: str, tenant: Tenant, chair_id: int, model: str, *, speed: float = 0,
              device: str | None = None, outbox: Path | None = None,
              reconnect_s: float = 5.0) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "service.cli", "agent", "--chair", str(chair_id),
               "--device", device or f"sim://{model}", "--model", model, "--service", base,
               "--username", tenant.usernames["agent"], "--password-file", str(secret),
               "--outbox", str(outbox or tmp_path / f"outbox-{chair_id}.db"), "--speed", str(speed),
               "--reconnect", str(reconnect_s)]
        proc = start_logged(cmd, tmp_path / f"agent-{len(procs)}.stderr")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def world_with_command(tenant: Tenant, *, tag: str, model: str, protocol: dict, mode: str = "control") -> DeliveryWorld:
    """A session in 'programming' with a deliver command waiting for its chair's agent."""
    app = tenant.app
    now = app.state.clock.now()
    with session_scope(app.state.engine) as s:
        world = delivery_world(s, tenant.clinic_id, tenant.users["technician"], now, tag=tag, model=model,
                               trains=protocol["trains"], pulses_per_train=protocol["pulses_per_train"])
        ts = s.get(TreatmentSession, world.session_id)
        assert ts is not None
        ts.mode = mode
        s.add(ChairCommand(clinic_id=tenant.clinic_id, chair_id=world.chair_id, session_id=world.session_id,
                           kind="deliver", payload={"mode": mode, "protocol": protocol}, created_at=now))
    return world


def wait_for_end(app: FastAPI, session_id: int, timeout_s: float = 120) -> TreatmentSession:
    from sqlmodel import Session

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Session(app.state.engine) as s:
            ts = s.get(TreatmentSession, session_id)
            assert ts is not None
            if ts.status in ("completed", "interrupted", "aborted"):
                return ts
        time.sleep(0.2)
    raise AssertionError(f"session {session_id} did not end in {timeout_s} s (status {ts.status})")


@dataclass
class SimProcess:
    proc: subprocess.Popen[str]
    path: str

    def script(self, line: str) -> None:
        """Act at the simulated unit (front panel, faults) through its stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()


@pytest.fixture
def sim_process() -> Iterator[Callable[..., SimProcess]]:
    """`tmsops simulate --pty` processes: a stimulator on a real pseudo-terminal, scriptable at its panel."""
    procs: list[subprocess.Popen[str]] = []

    def start(model: str, speed: float) -> SimProcess:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "simulate", "--model", model, "--pty", "--speed", str(speed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/"), path
        return SimProcess(proc, path)

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for_status(app: FastAPI, session_id: int, wanted: set[str], timeout_s: float = 60) -> TreatmentSession:
    from sqlmodel import Session

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Session(app.state.engine) as s:
            ts = s.get(TreatmentSession, session_id)
            assert ts is not None
            if ts.status in wanted:
                return ts
        time.sleep(0.1)
    raise AssertionError(f"session {session_id} never reached {wanted}")
