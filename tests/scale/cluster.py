"""Several real `tmsops serve` processes on one PostgreSQL database, and a clinic whose staff talk to them.

Each process is ``python -m service.cli serve`` with the settings a deployment would give it (the scheduler on
in every one, one shared secret key); ``PGAPPNAME`` names its database connections, so ``pg_stat_activity``
says which process holds the scheduler's advisory lock. Output goes to a log file per process, not a pipe: a
pipe nobody reads would fill with access-log lines and stall the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import holidays
import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.core.db import make_engine, session_scope
from service.core.migrate import upgrade
from service.jobs.scheduler import ADVISORY_KEY
from service.models.users import Role
from tests.conftest import PASSWORD, create_pg_database, drop_pg_database, settings_for
from tests.live import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
WRITE = {"X-Requested-With": "test"}
SECRET = "scale-test-secret-" + "x" * 32  # one key for every process: token digests must agree


@dataclass
class Node:
    """One `tmsops serve` process."""

    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def client(self, token: str | None = None) -> httpx.Client:
        headers = WRITE | ({"Authorization": f"Bearer {token}"} if token else {})
        return httpx.Client(base_url=self.base, headers=headers, timeout=60)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, the way a crashed or OOM-killed process goes."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Cluster:
    url: str
    engine: Engine
    nodes: list[Node]

    def scheduler_holders(self) -> list[str]:
        """The application names of the connections holding the scheduler's advisory lock on this database
        (advisory locks are per database: other databases on the server have leaders of their own)."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"),
                {"hi": ADVISORY_KEY >> 32, "lo": ADVISORY_KEY & 0xFFFFFFFF}).all()
        return [r[0] for r in rows]


def _env(url: str, name: str) -> dict[str, str]:
    return os.environ | {
        "TMS_DATABASE_URL": url, "TMS_ENVIRONMENT": "test", "TMS_SECRET_KEY": SECRET,
        "TMS_SCHEDULER_ENABLED": "true", "TMS_SCHEDULER_SYNC_SECONDS": "1", "TMS_SCHEDULER_LEADER_RETRY_SECONDS": "1",
        "TMS_PASSWORD_TIME_COST": "1", "TMS_PASSWORD_MEMORY_KIB": "64", "PGAPPNAME": name,
    }


def start_node(url: str, name: str, logs: Path) -> Node:
    port = free_port()
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], cwd=ROOT,
                                env=_env(url, name), stdout=out, stderr=subprocess.STDOUT)
    return Node(name, f"http://127.0.0.1:{port}", proc, log)


def wait_ready(node: Node, timeout_s: float = 60) -> None:
    wait_healthy(node.base, node.proc, node.name, node.log_tail, timeout_s)


def stop(nodes: list[Node]) -> None:
    """SIGTERM all at once (each waits out its open keep-alive connections), then reap."""
    running = [n for n in nodes if n.proc.poll() is None]
    for node in running:
        node.proc.terminate()
    for node in running:
        try:
            node.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            node.proc.kill()
            node.proc.wait(timeout=10)


@contextmanager
def cluster(admin_url: str, logs: Path, processes: int = 2) -> Iterator[Cluster]:
    """A fresh migrated PostgreSQL database served by ``processes`` `tmsops serve` processes (A, B, ...)."""
    url = create_pg_database(admin_url)
    engine = make_engine(url)
    nodes: list[Node] = []
    try:
        upgrade(url)
        nodes = [start_node(url, f"tmsops-{chr(ord('A') + i)}", logs) for i in range(processes)]
        for node in nodes:
            wait_ready(node)
        yield Cluster(url, engine, nodes)
    finally:
        stop(nodes)
        engine.dispose()
        drop_pg_database(admin_url, url)


@dataclass
class RemoteTenant:
    """A clinic with one account per role, signed in on node A; quacks like tests.conftest.Tenant for the
    scheduling builders (``client(role)``, ``users``), but its clients speak HTTP to a real process."""

    cluster: Cluster
    clinic_id: int
    name: str
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)

    _open: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str, node: int = 0) -> httpx.Client:
        """A client signed in as ``role`` on process ``node`` (closed by ``close``)."""
        client = self.cluster.nodes[node].client(self.tokens[role])
        self._open.append(client)
        return client

    def close(self) -> None:
        for client in self._open:
            client.close()

    def login(self, role: str, node: int = 0) -> str:
        """A new server-side session for ``role``, opened through ``node``; returns its bearer token."""
        with self.cluster.nodes[node].client() as anon:
            r = anon.post("/api/v1/auth/token", data={"username": self.usernames[role], "password": PASSWORD})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


def remote_tenant(c: Cluster) -> RemoteTenant:
    """Create a clinic and its accounts in the database (as `tmsops create-user` would), sign in on node A."""
    from service.audit.service import SYSTEM
    from service.auth.passwords import Passwords
    from service.clinics import service as clinics
    from service.users import service as users
    from service.users.schemas import UserCreate

    suffix = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    settings = settings_for(c.url)
    with session_scope(c.engine) as session:
        clinic = clinics.get_or_create(session, SYSTEM, f"Clinic {suffix}", now)
        tenant = RemoteTenant(c, clinic.id or 0, clinic.name)
        for role in Role:
            username = f"{role.value[:5]}-{suffix}"
            user = users.create(session, SYSTEM, Passwords(settings), tenant.clinic_id,
                                UserCreate(username=username, display_name=f"{role.value} {suffix}", role=role,
                                           password=PASSWORD), now)
            tenant.users[role.value] = user.id or 0
            tenant.usernames[role.value] = username
    for role in tenant.usernames:
        tenant.tokens[role] = tenant.login(role)
    return tenant


def next_open_weekday(after: date, country: str = "US", subdivision: str = "MA") -> date:
    """The first Monday-Friday after ``after`` that is no public holiday (the builders' clinic calendar)."""
    public = holidays.country_holidays(country, subdiv=subdivision, years=range(after.year, after.year + 2))
    day = after + timedelta(days=1)
    while day.weekday() >= 5 or day in public:
        day += timedelta(days=1)
    return day
