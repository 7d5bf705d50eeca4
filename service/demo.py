"""`make run`'s process group: the service plus one chair agent per demo chair, each on a simulated stimulator.

Ctrl-C (or SIGTERM) stops the agents first, so they finish their current event batch, then the service.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import Session, select

from service.clinics import repository as clinics
from service.core.db import make_engine
from service.models.chairs import Chair, Device
from service.seed import DEMO_AGENT, DEMO_CLINIC

AGENT_SECRET = Path("var/demo-agent.secret")


def demo_chairs(database_url: str) -> list[tuple[int, str]]:
    """(chair id, device model) of the demo clinic's chairs."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            clinic = clinics.by_name(session, DEMO_CLINIC)
            if clinic is None:
                return []
            rows = session.exec(select(Chair, Device).join(Device).where(Chair.clinic_id == clinic.id)).all()
            return [(chair.id or 0, device.model) for chair, device in rows]
    finally:
        engine.dispose()  # its pooled connection would stay open beside the service's for the demo's whole life


def run(database_url: str, host: str, port: int) -> int:
    """Start the service and the agents; return when interrupted, after stopping them all."""
    cli = [sys.executable, "-m", "service.cli"]
    service = subprocess.Popen([*cli, "serve", "--host", host, "--port", str(port)])
    agents: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        base = f"http://{host}:{port}"
        _wait_for(base, service)
        if not AGENT_SECRET.exists():
            print("no demo agent credentials (var/demo-agent.secret); chairs run without agents", flush=True)
        else:
            for chair_id, model in demo_chairs(database_url):
                agents.append(subprocess.Popen([
                    *cli, "agent", "--chair", str(chair_id), "--device", f"sim://{model}", "--model", model,
                    "--service", base, "--username", DEMO_AGENT, "--password-file", str(AGENT_SECRET)]))
            print(f"{len(agents)} chair agents running against simulated stimulators", flush=True)
        while not stopping and service.poll() is None:
            time.sleep(0.3)
    finally:
        # The agents first, each finishing its current event batch, then the service: stopped together, the
        # service would still hold the agents' open long polls when it shut down, and cut them.
        _stop(agents)
        _stop([service])
    return 0 if stopping else service.returncode or 0  # asked to stop: a clean exit, not the signal's code


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for(base: str, service: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and service.poll() is None:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the service did not come up on {base}")


def write_agent_secret(password: str) -> None:
    """Keep the demo agent's password where the demo's agents can read it (owner-only file)."""
    AGENT_SECRET.parent.mkdir(parents=True, exist_ok=True)
    AGENT_SECRET.write_text(password)
    os.chmod(AGENT_SECRET, 0o600)
