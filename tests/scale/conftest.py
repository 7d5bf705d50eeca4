"""Fixtures for the scale-out tests: PostgreSQL only (several processes need a server database).

Without TMS_TEST_DATABASE_URL these tests skip with the reason; under CI=true a missing or unreachable
server is an error, as for the ``db_kind`` fixture in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import IN_CI, PG_ENV, _pg_admin_url, _pg_reachable
from tests.scale.cluster import Cluster, RemoteTenant, cluster, remote_tenant


@pytest.fixture(scope="session")
def pg_admin() -> str:
    """The PostgreSQL server's admin URL (creates a fresh database per cluster)."""
    admin = _pg_admin_url()
    if admin is None:
        pytest.skip(f"scale-out tests need PostgreSQL: set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    problem = _pg_reachable(admin)
    if problem:
        if IN_CI:
            pytest.exit(f"CI=true but PostgreSQL at {PG_ENV} is unreachable: {problem}", 3)
        pytest.skip(f"scale-out tests skipped: PostgreSQL unreachable ({problem})")
    return admin


@pytest.fixture(scope="session")
def two(pg_admin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two `tmsops serve` processes (A and B) on one fresh PostgreSQL database, shared by the tests that leave
    both running (each works in a clinic of its own); tests that kill a process start a cluster of their own."""
    with cluster(pg_admin, tmp_path_factory.mktemp("cluster")) as c:
        yield c


@pytest.fixture
def clinic_staff(two: Cluster) -> Iterator[RemoteTenant]:
    """A new clinic on the shared cluster, its staff signed in on process A."""
    staff = remote_tenant(two)
    yield staff
    staff.close()
