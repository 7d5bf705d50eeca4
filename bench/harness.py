"""Shared benchmark plumbing: a real `tmsops serve` process, a bounded load loop, and a table printer."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(database_url: str | None = None, extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Migrate a database (a temporary SQLite file unless given) and serve it; yields (base_url, db_url)."""
    tmp = tempfile.mkdtemp(prefix="tmsops-bench-")
    url = database_url or f"sqlite:///{tmp}/bench.db"
    env = os.environ | {"TMS_DATABASE_URL": url, "TMS_ENVIRONMENT": "test"} | (extra_env or {})
    subprocess.run([sys.executable, "-m", "service.cli", "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        yield base, url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _wait_ready(base: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {base} did not come up in {timeout_s} s")


def load(name: str, call: Callable[[httpx.Client], httpx.Response], *, requests: int, concurrency: int,
         client_factory: Callable[[], httpx.Client]) -> Result:
    """Run ``requests`` calls over ``concurrency`` threads (bounded in count); collect latencies."""
    per_worker = requests // concurrency

    def worker(_: int) -> tuple[list[float], int]:
        lat: list[float] = []
        errors = 0
        with client_factory() as client:
            for _ in range(per_worker):
                t0 = time.perf_counter()
                response = call(client)
                lat.append((time.perf_counter() - t0) * 1000)
                errors += response.status_code >= 400
        return lat, errors

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(worker, range(concurrency)))
    seconds = time.perf_counter() - t0
    latencies = [x for lat, _ in outcomes for x in lat]
    return Result(name, len(latencies), sum(e for _, e in outcomes), seconds, latencies)


def print_table(title: str, results: list[Result]) -> None:
    print(f"\n{title}")
    header = f"{'operation':<44} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<44} {r.requests:>9} {r.errors:>7} {r.rate:>9.0f} {r.pct(0.5):>8.2f} {r.pct(0.99):>8.2f}")


def median(values: list[float]) -> float:
    return statistics.median(values)
