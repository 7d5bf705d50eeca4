"""While the database is unreachable the service answers 503 with Retry-After (API and pages), never a 500;
once it is back, the same process answers as before. A live server on a real port, a real database."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from service.app import create_app
from service.core.clock import FrozenClock
from service.core.db import make_engine
from service.core.migrate import upgrade
from tests.conftest import PASSWORD, T0, Database, create_pg_database, drop_pg_database, make_tenant, settings_for
from tests.live import start_server, stop_server
from tests.tcp_relay import Relay


class Unplug(Relay):
    """Forwards to a TCP port until ``unplug()``: then every connection is closed and new ones are hung up on."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.unplugged = threading.Event()
        self._open: list[socket.socket] = []
        super().__init__()

    def unplug(self) -> None:
        self.unplugged.set()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def plug(self) -> None:
        self.unplugged.clear()

    def _pipe(self, client: socket.socket) -> None:
        if self.unplugged.is_set():
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        with self._lock:
            self._open += [client, upstream]
        self._relay(client, upstream)


def _check(base: str, token: str, page_cookies: httpx.Cookies, expect: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        api = http.get("/api/v1/chair-status", headers={"Authorization": f"Bearer {token}"})
    with httpx.Client(base_url=base, timeout=30, cookies=page_cookies) as browser:
        page = browser.get("/chairs")
    assert (api.status_code, page.status_code) == (expect, expect), (api.text[:300], page.text[:300])
    if expect == 503:
        assert api.headers["retry-after"] == "5" and page.headers["retry-after"] == "5"
        assert api.json()["error"]["code"] == "service_unavailable"
        assert page.headers["content-type"].startswith("text/html") and "try again shortly" in page.text


def _outage(url: str, cut: Callable[[], None], restore: Callable[[], None]) -> None:
    engine = make_engine(url)
    app = create_app(settings_for(url), engine=engine, clock=FrozenClock(T0))
    live = start_server(app)
    try:
        tenant = make_tenant(app)
        with httpx.Client(base_url=live.base) as http:
            r = http.post("/login", data={"username": tenant.usernames["technician"], "password": PASSWORD})
            assert r.status_code == 303, r.text  # signed in: on to the home page
            cookies = http.cookies
        _check(live.base, tenant.tokens["technician"], cookies, 200)
        cut()
        engine.dispose()  # pooled connections would otherwise answer from a SQLite file still open
        _check(live.base, tenant.tokens["technician"], cookies, 503)
        restore()
        _check(live.base, tenant.tokens["technician"], cookies, 200)
    finally:
        stop_server(live)
        engine.dispose()


def test_postgresql_unreachable_answers_503_with_retry_after(database: Database, tmp_path: Path) -> None:
    if database.kind != "postgres":
        pytest.skip("the PostgreSQL case; the SQLite one is below")
    admin = make_url(database.url).set(database="postgres").render_as_string(hide_password=False)
    url = create_pg_database(admin)
    try:
        upgrade(url)
        real = make_url(url)
        relay = Unplug(int(real.port or 5432))
        try:
            via = real.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
            _outage(via, relay.unplug, relay.plug)
        finally:
            relay.close()
    finally:
        drop_pg_database(admin, url)


def test_sqlite_file_unreachable_answers_503_with_retry_after(database: Database, tmp_path: Path) -> None:
    if database.kind != "sqlite":
        pytest.skip("the SQLite case; the PostgreSQL one is above")
    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder / 'tmsops.db'}"
    upgrade(url)
    _outage(url, lambda: folder.rename(tmp_path / "away"), lambda: (tmp_path / "away").rename(folder))

