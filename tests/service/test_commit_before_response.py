"""A write is committed before its response starts: a client (or another process) that has the 201 can read it.

The same holds for a read's audit row: a read-only request's row is group-committed, and the patient's record
never leaves before the row that says who read it is durable.

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


def _post_and_look(tenant: Tenant, database: Database, path: str, body: dict[str, Any] | None,
                   probe: str, params: dict[str, Any]) -> tuple[int, int | None]:
    """POST (or GET, with no body) through the raw ASGI interface; returns (status, rows ``probe`` saw when
    the response started)."""
    payload = b"" if body is None else json.dumps(body).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET" if body is None else "POST",
        "scheme": "http",
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


def test_a_patient_read_is_audited_when_the_200_starts(database: Database, tenant: Tenant) -> None:
    created = tenant.client("technician").post("/api/v1/patients", json=patient_body())
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    probe = ("SELECT count(*) FROM audit_event WHERE entity = 'patient' AND action = 'read' "
             "AND entity_id = :pid AND user_id = :uid")
    params = {"pid": str(pid), "uid": tenant.users["technician"]}
    for expected in (1, 2):
        status, rows = _post_and_look(tenant, database, f"/api/v1/patients/{pid}", None, probe, params)
        assert status == 200
        assert rows == expected, "the patient's record went out before its audit row was committed"


def test_a_refused_read_leaves_no_audit_row(database: Database, tenant: Tenant, other_tenant: Tenant) -> None:
    created = other_tenant.client("technician").post("/api/v1/patients", json=patient_body())
    pid = created.json()["id"]
    status, rows = _post_and_look(tenant, database, f"/api/v1/patients/{pid}", None,
                                  "SELECT count(*) FROM audit_event WHERE action = 'read' AND entity_id = :pid "
                                  "AND user_id = :uid", {"pid": str(pid), "uid": tenant.users["technician"]})
    assert status == 404 and rows == 0
