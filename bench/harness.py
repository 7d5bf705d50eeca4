"""Shared benchmark plumbing: a fresh database, real `tmsops serve` processes, a bounded load loop, a table printer."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.core.db import normalize_url


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
def fresh_database(server_url: str | None = None) -> Iterator[str]:
    """A new, empty database for one benchmark run, removed afterwards.

    ``None``: a temporary SQLite file. A ``postgresql://`` URL names a server (and a user allowed to create
    databases): a database of our own is created on it and dropped at the end, so a benchmark never writes
    into the database the URL names.
    """
    if server_url is None:
        tmp = tempfile.mkdtemp(prefix="tmsops-bench-")
        try:
            yield f"sqlite:///{tmp}/bench.db"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if not server_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise SystemExit("--database-url takes a PostgreSQL server URL (postgresql://user@host:port/db); "
                         "SQLite runs in a temporary file by default")
    admin = make_url(normalize_url(server_url))
    name = f"tmsops_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


# The process serving each base URL that ``serving`` yields (for ``bench.threads_cpu``).
SERVER_PIDS: dict[str, int] = {}


@contextmanager
def serving(url: str, processes: int = 1, extra_env: dict[str, str] | None = None) -> Iterator[list[str]]:
    """Migrate ``url`` and serve it with ``processes`` `tmsops serve` processes; yields their base URLs.

    The background jobs run as they do in a deployment (the leader's audit sealer every second, among them): off,
    as the test environment has them, the sealer's batches were left out of every figure, and the reads' p99.
    """
    checkpoints = tempfile.mkdtemp(prefix="tmsops-bench-checkpoints-")
    env = os.environ | {"TMS_DATABASE_URL": url, "TMS_ENVIRONMENT": "test", "TMS_SCHEDULER_ENABLED": "true",
                        "TMS_AUDIT_CHECKPOINTS": f"{checkpoints}/audit.jsonl"} | (extra_env or {})
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        subprocess.run([sys.executable, "-m", "service.cli", "migrate"], env=env, check=True, capture_output=True)
        for i in range(processes):
            port = free_port()
            procs.append(subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
                                          env=env | {"PGAPPNAME": f"tmsops-bench-{i}"},
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            bases.append(f"http://127.0.0.1:{port}")
            SERVER_PIDS[bases[-1]] = procs[-1].pid
        for base in bases:
            _wait_ready(base)
        yield bases
    finally:
        for base in bases:
            SERVER_PIDS.pop(base, None)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print(f"process {proc.pid} ignored SIGTERM for 15 s; killed", file=sys.stderr)
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(checkpoints, ignore_errors=True)


@contextmanager
def served(database_url: str | None = None, extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """A fresh database (see ``fresh_database``) served by one process; yields (base_url, db_url)."""
    with fresh_database(database_url) as url, serving(url, 1, extra_env) as bases:
        yield bases[0], url


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
