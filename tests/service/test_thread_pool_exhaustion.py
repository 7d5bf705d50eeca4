"""More concurrent requests than AnyIO's default 40 worker threads never stop the service.

A sync endpoint, each sync dependency and the response's validation each take a worker thread from the
event loop's pool, one step at a time. A write holds its locks (on SQLite the process's writer lock) from its
first write to its commit, and needs a thread for the steps in between; requests waiting
for that lock wait in worker threads. With every thread held by a waiter, the holder never gets one and the
process stops for good (found by bench/load.py: 45 chairs on SQLite, and once 20; the same holds on
PostgreSQL through any row many requests write). The test only bounds a hang (60 s per request); it asserts no speed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.app import create_app
from service.core.clock import FrozenClock
from tests.conftest import (
    T0,
    Tenant,
    _pg_admin_url,
    drop_pg_database,
    fresh_database,
    make_tenant,
    patient_body,
    settings_for,
)
from tests.live import LiveServer, start_server, stop_server

WRITERS = 64  # well above the default pool of 40 threads


@pytest.fixture
def served(db_kind: str, tmp_path: Path) -> Iterator[tuple[Tenant, LiveServer]]:
    """The app with its lifespan on a real port, on a fresh database (a stuck lock must not stall other tests)."""
    url, engine = fresh_database(db_kind, tmp_path)
    tenant = make_tenant(create_app(settings_for(url), engine=engine, clock=FrozenClock(T0)))
    live = start_server(tenant.app)
    yield tenant, live
    stop_server(live)
    engine.dispose()
    if db_kind == "postgres":
        admin = _pg_admin_url()
        assert admin is not None
        drop_pg_database(admin, url)


def test_more_concurrent_audited_writes_than_worker_threads_all_complete(served: tuple[Tenant, LiveServer]) -> None:
    tenant, live = served
    barrier = threading.Barrier(WRITERS)
    codes: list[int | str] = []

    def write() -> None:
        headers = {"Authorization": f"Bearer {tenant.tokens['technician']}"}
        with httpx.Client(base_url=live.base, headers=headers, timeout=60) as client:
            client.get("/api/v1/health")  # connected before the barrier: requests, not handshakes, race
            barrier.wait()
            try:
                codes.append(client.post("/api/v1/patients", json=patient_body(mrn=f"P-{uuid.uuid4().hex[:8]}"))
                             .status_code)
            except httpx.TimeoutException:
                codes.append("no answer in 60 s")

    threads = [threading.Thread(target=write) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [201] * WRITERS
