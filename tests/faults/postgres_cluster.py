"""The local PostgreSQL cluster behind TMS_TEST_DATABASE_URL, restartable by `pg_ctlcluster` (root only).

Restarting it cuts every connection of every process using the server, so the test that does it
runs once per suite and leaves the cluster up (it starts it again if a restart failed half-way).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

CONF_ROOT = Path("/etc/postgresql")


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str

    def _ctl(self, action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action],
                              capture_output=True, text=True, timeout=120)

    def restart(self) -> None:
        done = self._ctl("restart")
        if done.returncode != 0:
            self._ctl("start")  # never leave the shared server down
            raise AssertionError(f"pg_ctlcluster restart failed: {done.stdout}{done.stderr}")

    def ensure_up(self) -> None:
        if self._ctl("status").returncode != 0:
            self._ctl("start")


def local_cluster(admin_url: str) -> tuple[Cluster | None, str]:
    """The cluster serving ``admin_url`` if this process may restart it; else None and the reason why not."""
    url = make_url(admin_url)
    if url.host not in ("127.0.0.1", "localhost", None):
        return None, f"PostgreSQL at {url.host} is not a local cluster"
    if os.geteuid() != 0:
        return None, "restarting the PostgreSQL cluster needs root"
    if shutil.which("pg_ctlcluster") is None or not CONF_ROOT.is_dir():
        return None, "pg_ctlcluster (postgresql-common) and /etc/postgresql are not here"
    port = str(url.port or 5432)
    for conf in sorted(CONF_ROOT.glob("*/*/postgresql.conf")):
        if _port(conf) == port:
            return Cluster(conf.parent.parent.name, conf.parent.name), ""
    return None, f"no cluster under {CONF_ROOT} listens on port {port}"


def _port(conf: Path) -> str:
    for line in conf.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "port":
            return value.split("#")[0].strip()
    return "5432"
