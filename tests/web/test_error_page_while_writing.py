"""A page's error answer while a write holds SQLite's writer lock: the event loop must keep serving.

A write request holds the writer lock from its transaction's start to its end, and its end is scheduled by the event
loop. The error page reads who is signed in; done in a write transaction on the loop, it waited there for that lock
and no request of the process was ever served again (a browser's /favicon.ico 404 arriving during a sign-in).
"""

from __future__ import annotations

import httpx

from service.core.db import _WRITER_LOCKS
from tests.conftest import Tenant
from tests.web.conftest import Live


def test_a_refused_page_is_answered_while_a_write_holds_the_writer_lock(live: Live, live_tenant: Tenant) -> None:
    signed_in = {"Authorization": f"Bearer {live_tenant.tokens['technician']}"}
    lock = _WRITER_LOCKS[live.app.state.engine]
    with lock:  # a write request in flight, between its transaction's start and its end
        for_the_technician = httpx.get(f"{live.base}/no-such-page", headers=signed_in, timeout=10)
        for_nobody = httpx.get(f"{live.base}/favicon.ico", timeout=10)
        health = httpx.get(f"{live.base}/api/v1/health", timeout=10)
    assert for_the_technician.status_code == 404 and 'href="/chairs"' in for_the_technician.text  # signed in: nav
    assert for_nobody.status_code == 404 and 'href="/chairs"' not in for_nobody.text
    assert health.status_code == 200
