"""A write is committed before its response starts: a client (or another process) that has the 201 can read it.

Observed at the ASGI boundary: when the app sends ``http.response.start``, a separate database connection
must already see the new row. TestClient cannot show this (it returns only after the whole ASGI call, commit
included); a real server sends the response first and a client on another connection can overtake the commit.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
from sqlalchemy import text

from tests.conftest import Database, Tenant, patient_body


def _post_and_look(tenant: Tenant, database: Database, path: str, body: dict[str, Any],
                   probe: str, params: dict[str, Any]) -> tuple[int, int | None]:
    """POST through the raw ASGI interface; returns (status, rows ``probe`` saw when the response started)."""
    payload = json.dumps(body).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"authorization", f"Bearer {tenant.tokens['technician']}".encode())],
    }
    seen: dict[str, int | None] = {"status": 0, "rows": None}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            with database.engine.connect() as conn:  # another connection, as another process would have
                seen["rows"] = int(conn.execute(text(probe), params).scalar_one())

    anyio.run(tenant.app, scope, receive, send)
    return int(seen["status"] or 0), seen["rows"]


def test_a_created_patient_is_committed_when_the_201_starts(database: Database, tenant: Tenant) -> None:
    mrn = f"C-{uuid.uuid4().hex[:8]}"
    status, rows = _post_and_look(tenant, database, "/api/v1/patients", patient_body(mrn=mrn),
                                  "SELECT count(*) FROM patient WHERE mrn = :mrn", {"mrn": mrn})
    assert status == 201
    assert rows == 1, "the 201 went out before the transaction committed"


def test_a_refused_write_leaves_nothing_behind(database: Database, tenant: Tenant) -> None:
    mrn = f"C-{uuid.uuid4().hex[:8]}"
    body = patient_body(mrn=mrn, date_of_birth="2999-01-01")  # born in the future: refused
    status, rows = _post_and_look(tenant, database, "/api/v1/patients", body,
                                  "SELECT count(*) FROM patient WHERE mrn = :mrn", {"mrn": mrn})
    assert status == 422 and rows == 0
