"""A chair agent's command long poll and a session's progress stream look without SQLite's writer lock.

Both look several times a second for as long as a chair is in use. In a write transaction each look queued for the
process's one writer behind every write in flight (and held it up in turn); a look that finds nothing must be a
read, and only taking a command a write.
"""

from __future__ import annotations

import time

import httpx

from service.core.db import _WRITER_LOCKS
from tests.conftest import Tenant
from tests.web.conftest import Live


def _chair(live: Live, tenant: Tenant) -> int:
    admin = {"Authorization": f"Bearer {tenant.tokens['admin']}"}
    made = httpx.post(f"{live.base}/api/v1/chairs", json={"name": "Chair P"}, headers=admin, timeout=10)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_a_long_poll_that_finds_no_command_waits_and_ends_while_a_write_holds_the_writer_lock(
        live: Live, live_tenant: Tenant) -> None:
    chair_id = _chair(live, live_tenant)
    agent = {"Authorization": f"Bearer {live_tenant.tokens['agent']}"}
    with _WRITER_LOCKS[live.app.state.engine]:  # a write in flight for the whole poll
        began = time.monotonic()
        polled = httpx.get(f"{live.base}/api/v1/agent/commands", params={"chair_id": chair_id, "wait": 1},
                           headers=agent, timeout=10)
        waited = time.monotonic() - began
        unknown = httpx.get(f"{live.base}/api/v1/agent/commands", params={"chair_id": chair_id + 1000},
                            headers=agent, timeout=10)
    assert polled.status_code == 200 and polled.json() == [], polled.text
    assert waited >= 1  # it waited out its second, looking, rather than answering at once
    assert unknown.status_code == 404 and f"chair {chair_id + 1000} not found" in unknown.text


def test_a_progress_streams_first_look_is_answered_while_a_write_holds_the_writer_lock(
        live: Live, live_tenant: Tenant) -> None:
    # A missing session: the stream's first look is the same read as each later one, and answers at once.
    tech = {"Authorization": f"Bearer {live_tenant.tokens['technician']}"}
    with _WRITER_LOCKS[live.app.state.engine]:
        missing = httpx.get(f"{live.base}/api/v1/sessions/999999/progress", headers=tech, timeout=10)
    assert missing.status_code == 404 and "session 999999 not found" in missing.text
