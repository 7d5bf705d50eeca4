"""The real processes the fault suites kill: a `tmsops serve` and `tmsops agent`, each restartable in place.

Both write their stderr to a log file beside the test's other files, so a failing round can show what
each process said just before it died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.live import free_port, wait_healthy


def _tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class ServiceProcess:
    """`tmsops serve` on one fixed port; ``kill()`` is SIGKILL, ``start()`` serves the same port again."""

    def __init__(self, database_url: str, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"service-{self.port}.log"
        # Cheap password hashing as in the in-process test apps: the accounts were made with it.
        self.env = os.environ | {"TMS_DATABASE_URL": database_url, "TMS_ENVIRONMENT": "test",
                                 "TMS_PASSWORD_TIME_COST": "1", "TMS_PASSWORD_MEMORY_KIB": "64"} | (env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, wait: bool = True) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the service is already running"
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)],
                env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        self.starts += 1
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout_s: float = 60) -> None:
        assert self.proc is not None
        wait_healthy(self.base, self.proc, "tmsops serve", lambda: _tail(self.log), timeout_s)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, open transactions die with the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return _tail(self.log)


class AgentProcess:
    """`tmsops agent` for one chair (an in-process ``sim://`` unit unless given a device), its outbox kept."""

    def __init__(self, service_base: str, chair_id: int, model: str, username: str, password_file: Path,
                 outbox: Path, log_dir: Path, speed: float, heartbeat_s: float = 0.5,
                 device: str | None = None) -> None:
        self.cmd = [sys.executable, "-m", "service.cli", "agent", "--chair", str(chair_id),
                    "--device", device or f"sim://{model}", "--model", model, "--service", service_base,
                    "--username", username, "--password-file", str(password_file),
                    "--outbox", str(outbox), "--speed", str(speed), "--heartbeat", str(heartbeat_s)]
        self.outbox = outbox
        self.log = log_dir / f"agent-chair-{chair_id}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the agent is already running"
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            self.proc = subprocess.Popen(self.cmd, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=log)
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pause(self) -> None:
        """SIGSTOP: the process is frozen where it is (its sockets stay open), as under a hung machine."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # also ends a SIGSTOPped process
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: the agent finishes its run, flushes what it can, and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return _tail(self.log)


class SimulatorProcess:
    """`tmsops simulate --pty`: a unit that outlives the agents driving it, as real hardware does."""

    def __init__(self, model: str, speed: float, log_dir: Path) -> None:
        self.log = log_dir / "simulator.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "simulate", "--model", model, "--pty", "--speed", str(speed)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        self.path = self.proc.stdout.readline().strip()
        assert self.path.startswith("/dev/"), f"no pty path from the simulator:\n{_tail(self.log)}"

    def script(self, line: str) -> None:
        """One line of the simulator's script (``fault unplug@pulse=60``, ``panel start``...)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def plug(self) -> str:
        """Plug the unit back in after an unplug fault; the path of its new pty."""
        assert self.proc.stdout is not None
        self.script("plug")
        word, path = self.proc.stdout.readline().split()
        assert word == "plugged", word
        return path

    def pulses(self) -> int:
        """What the unit has delivered so far (its ``pulses`` script command)."""
        assert self.proc.stdout is not None
        self.script("pulses")
        word, count = self.proc.stdout.readline().split()
        assert word == "pulses", word
        return int(count)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
