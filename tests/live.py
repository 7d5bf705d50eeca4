"""The app on a real port (uvicorn in a thread), for tests whose other end is a process or a browser."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import traceback
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI


@dataclass
class LiveServer:
    app: FastAPI
    base: str
    server: uvicorn.Server
    thread: threading.Thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(app: FastAPI, port: int | None = None) -> LiveServer:
    """Serve ``app`` on 127.0.0.1 (a free port unless given) and wait until it accepts requests."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                          timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "test server did not start"
    return LiveServer(app, f"http://127.0.0.1:{port}", server, thread)


def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=20)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], name: str, log_tail: Callable[[], str],
                 timeout_s: float = 60) -> None:
    """Wait until a `tmsops serve` subprocess answers /health; fail with its log if it exits or stays silent."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{log_tail()}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{name} did not answer /health in {timeout_s} s:\n{log_tail()}")


def health_probe(base: str) -> str:
    """How the server answers its bare health check at this moment, for a failure's message."""
    started = time.monotonic()
    try:
        answer: object = httpx.get(f"{base}/api/v1/health", timeout=10).status_code
    except httpx.HTTPError as exc:
        answer = repr(exc)
    return f"GET /api/v1/health: {answer} after {time.monotonic() - started:.2f} s"


def thread_stacks() -> str:
    """Where every thread of this process is (a live server's included), identical stacks counted once."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    stacks: Counter[str] = Counter()
    first_name: dict[str, str] = {}
    for ident, frame in sys._current_frames().items():
        stack = "".join(traceback.format_stack(frame))
        stacks[stack] += 1
        first_name.setdefault(stack, names.get(ident, str(ident)))
    return "\n".join(f"--- {count} thread(s) like {first_name[stack]}:\n{stack}" for stack, count in stacks.items())


_STDERR: weakref.WeakKeyDictionary[subprocess.Popen[bytes], Path] = weakref.WeakKeyDictionary()


def start_logged(cmd: list[str], stderr: Path) -> subprocess.Popen[bytes]:
    """Start a process (a chair agent) with its stderr written to a file: a pipe nobody reads fills at 64 KiB, and
    the process then stops at its next log line, which a test sees as a hang."""
    with stderr.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=sink)
    _STDERR[proc] = stderr
    return proc


def stderr_of(proc: subprocess.Popen[bytes]) -> str:
    """What a process started by ``start_logged`` wrote to stderr so far (for a failing test's message)."""
    return _STDERR[proc].read_text(errors="replace") or "(nothing on stderr)"
