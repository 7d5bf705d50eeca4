"""A pooled PostgreSQL connection the server has closed (a restart, an administrator's terminate, an idle timeout)
is replaced when it is handed out, so no request fails on it; and that check costs no round trip."""

from __future__ import annotations

import time

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from service.app import create_app
from service.core.clock import FrozenClock
from tests.builders.clinic import ok
from tests.conftest import T0, make_tenant, settings_for


def _terminate_backends(url: str) -> int:
    """End every server process of this database but the caller's, as a restart would, and wait until they are
    gone (a terminate is asynchronous)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ended = len(conn.execute(f"SELECT pg_terminate_backend(pid) {others}").fetchall())
        deadline = time.monotonic() + 10
        while conn.execute(f"SELECT count(*) {others}").fetchone() != (0,):
            assert time.monotonic() < deadline, "the terminated server processes did not end"
            time.sleep(0.05)
    return ended


def test_reads_and_writes_after_the_server_closed_every_pooled_connection_all_succeed(
        pg: tuple[str, Engine]) -> None:
    url, engine = pg
    app = create_app(settings_for(url), engine=engine, clock=FrozenClock(T0))
    tenant = make_tenant(app)
    tech = tenant.client("technician")
    patient = ok(tech.post("/api/v1/patients", json={
        "mrn": "LIVE-1", "family_name": "Pool", "given_name": "Alive", "date_of_birth": "1970-01-01",
        "sex": "female", "primary_diagnosis": "F33.2"}), 201)
    assert engine.pool.checkedin() >= 1  # type: ignore[attr-defined]
    assert _terminate_backends(url) >= engine.pool.checkedin()  # type: ignore[attr-defined]
    for n in range(3):
        assert ok(tech.get(f"/api/v1/patients/{patient['id']}"))["mrn"] == "LIVE-1"
        ok(tech.patch(f"/api/v1/patients/{patient['id']}", json={"phone": f"555-010{n}",
                                                                  "reason": "number changed"}))


def test_handing_out_a_pooled_connection_asks_the_server_nothing(pg: tuple[str, Engine]) -> None:
    """The server's own record of the connection's last statement: still the pool's reset of the previous use after
    the connection is handed out again (a pre-ping would have sent one)."""
    url, engine = pg
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as observer, engine.connect() as conn:
        last = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid  # the same pooled connection
    assert last == ("ROLLBACK",)
