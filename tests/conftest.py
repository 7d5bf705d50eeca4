"""Shared fixtures: both databases, the app, and tenants (a clinic with one account per role).

Every test that takes ``database`` (directly or through ``app``/``tenant``) runs on SQLite and, when
TMS_TEST_DATABASE_URL points at a PostgreSQL server, on PostgreSQL too. Under CI=true a missing or
unreachable server is an error, never a skip. Tests isolate themselves by creating their own clinic
(tenant), which is how the product isolates clinics too.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from config.settings import Settings
from service.app import create_app
from service.core.clock import FrozenClock
from service.core.db import make_engine, normalize_url, session_scope
from service.core.migrate import upgrade
from service.models.users import Role

PG_ENV = "TMS_TEST_DATABASE_URL"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday, 9:00 in New York


@dataclass
class Database:
    kind: str  # "sqlite" or "postgres"
    url: str
    engine: Engine


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        if IN_CI:
            pytest.exit(f"CI=true but {PG_ENV} is not set: the PostgreSQL half of the suite must run in CI", 3)
        return None
    return normalize_url(url)


def _pg_reachable(admin_url: str) -> str | None:
    try:
        eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", reported below
        return str(exc).splitlines()[0]


# Every database the run created and has not dropped yet: dropped when the run ends (``pytest_sessionfinish``), so
# repeated runs on a developer's server leave nothing behind, whichever test forgot or failed before its drop.
_CREATED_PG: dict[str, str] = {}  # its URL -> the admin URL that made it


def create_pg_database(admin_url: str) -> str:
    """A fresh, empty PostgreSQL database for this test run; returns its URL."""
    name = f"tmsops_test_{uuid.uuid4().hex[:10]}"
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _CREATED_PG[url] = admin_url
    return url


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()
    _CREATED_PG.pop(url, None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the databases the run created and left (``WITH (FORCE)`` ends any connection still open)."""
    for url, admin_url in list(_CREATED_PG.items()):
        try:
            drop_pg_database(admin_url, url)
        except Exception as exc:  # noqa: BLE001 - a server gone at the end must not hide the run's own result
            print(f"\ncould not drop test database {make_url(url).database}: {str(exc).splitlines()[0]}")


def fresh_database(kind: str, tmp_path: Path) -> tuple[str, Engine]:
    """A new migrated database of the given kind (for tests that tamper with or wreck it)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
    else:
        admin = _pg_admin_url()
        assert admin is not None
        url = create_pg_database(admin)
    upgrade(url)
    return url, make_engine(url)


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A fresh migrated PostgreSQL database, for what only PostgreSQL has (its locks, its connections' deaths)."""
    admin = _pg_admin_url()
    problem = f"set {PG_ENV}" if admin is None else _pg_reachable(admin)
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is unavailable: {problem}")
        pytest.skip(f"PostgreSQL tests skipped: {problem}")
    assert admin is not None
    url, engine = fresh_database("postgres", tmp_path)
    yield url, engine
    engine.dispose()
    drop_pg_database(admin, url)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" in metafunc.fixturenames:
        metafunc.parametrize("db_kind", ["sqlite", "postgres"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "postgres":
        admin = _pg_admin_url()
        if admin is None:
            pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
        problem = _pg_reachable(admin)
        if problem:
            if IN_CI:
                pytest.exit(f"CI=true but PostgreSQL at {PG_ENV} is unreachable: {problem}", 3)
            pytest.skip(f"PostgreSQL tests skipped: server unreachable ({problem})")
    return kind


@pytest.fixture(scope="session")
def database(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One migrated database per backend for the whole run."""
    tmp = tmp_path_factory.mktemp("db")
    url, engine = fresh_database(db_kind, tmp)
    yield Database(db_kind, url, engine)
    engine.dispose()
    if db_kind == "postgres":
        admin = _pg_admin_url()
        assert admin is not None
        drop_pg_database(admin, url)


def settings_for(url: str, **overrides: object) -> Settings:
    """Settings for tests: cheap password hashing, the given database."""
    base: dict[str, object] = {
        "database_url": url, "environment": "test", "password_time_cost": 1, "password_memory_kib": 64,
    }
    return Settings(**(base | overrides))  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def app(database: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings_for(database.url), engine=database.engine, clock=clock)


@dataclass
class Tenant:
    """A clinic with one account per role, and an authenticated client for each."""

    app: FastAPI
    clinic_id: int
    name: str
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return client

    def fresh_client(self, role: str) -> TestClient:
        """A client with a new session of its own (for tests that end sessions)."""
        anon = self.anonymous()
        r = anon.post("/api/v1/auth/token", data={"username": self.usernames[role], "password": PASSWORD})
        assert r.status_code == 200, r.text
        anon.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return anon

    def anonymous(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False)


PASSWORD = "correct horse battery"


def make_tenant(app: FastAPI) -> Tenant:
    """Create a clinic and its accounts through the services, then sign each in through the API."""
    from service.audit.service import SYSTEM
    from service.clinics import service as clinics
    from service.users import service as users
    from service.users.schemas import UserCreate

    suffix = uuid.uuid4().hex[:8]
    now = app.state.clock.now()
    tenant: Tenant
    with session_scope(app.state.engine) as session:
        clinic = clinics.get_or_create(session, SYSTEM, f"Clinic {suffix}", now)
        tenant = Tenant(app, clinic.id or 0, clinic.name)
        for role in Role:
            username = f"{role.value[:5]}-{suffix}"
            user = users.create(session, SYSTEM, app.state.passwords, tenant.clinic_id,
                                UserCreate(username=username, display_name=f"{role.value} {suffix}", role=role,
                                           password=PASSWORD), now)
            tenant.users[role.value] = user.id or 0
            tenant.usernames[role.value] = username
    anon = tenant.anonymous()
    for role_name, username in tenant.usernames.items():
        response = anon.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        tenant.tokens[role_name] = response.json()["access_token"]
    return tenant


@pytest.fixture
def tenant(app: FastAPI) -> Tenant:
    return make_tenant(app)


@pytest.fixture
def other_tenant(app: FastAPI) -> Tenant:
    return make_tenant(app)


def patient_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "mrn": f"MRN-{uuid.uuid4().hex[:8]}", "family_name": "Doe", "given_name": "Jane",
        "date_of_birth": "1980-04-02", "sex": "female", "primary_diagnosis": "F33.2",
        "payer": "Medicare", "referring_clinician": "Dr. Who",
    }
    return body | overrides


def wait_until(condition: Callable[[], bool], what: str = "the condition never held") -> None:
    """Poll ``condition`` every 5 ms for up to 10 s (for tests that line up threads)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)
