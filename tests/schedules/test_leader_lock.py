"""The scheduler's leader lock lives on one PostgreSQL connection; when that connection dies, the lock goes.

Found by the PostgreSQL-restart fault test (tests/faults): the leader went on running its scheduler
without the lock, so a second process could lead too. Here the connection is cut with
pg_terminate_backend (what a server restart does to it) instead of restarting the shared server.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.core.clock import FrozenClock
from service.jobs.scheduler import ADVISORY_KEY, JobRunner
from tests.conftest import T0, settings_for
from tests.faults.evidence import wait_until

HOLDERS = ("FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :hi AND objid = :lo "
           "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
KEY = {"hi": ADVISORY_KEY >> 32, "lo": ADVISORY_KEY & 0xFFFFFFFF}


def _cut_leader_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        cut = conn.execute(text(f"SELECT pg_terminate_backend(pid) {HOLDERS}"), KEY).scalars().all()
    assert cut == [True]


def _holders(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) {HOLDERS}"), KEY).scalar_one())


def test_a_leader_whose_lock_connection_died_takes_the_lock_again(pg: tuple[str, Engine]) -> None:
    url, engine = pg
    runner = JobRunner(engine, settings_for(url, scheduler_enabled=True, scheduler_leader_retry_seconds=1),
                       FrozenClock(T0))
    try:
        assert runner.start() is True
        _cut_leader_connection(engine)
        wait_until(lambda: _holders(engine) == 1, 30, "the leader to hold its lock again")
        assert runner.is_leader
    finally:
        runner.shutdown()


def test_a_leader_that_lost_its_lock_to_another_process_stops_leading(pg: tuple[str, Engine]) -> None:
    url, engine = pg
    runner = JobRunner(engine, settings_for(url, scheduler_enabled=True, scheduler_leader_retry_seconds=1),
                       FrozenClock(T0))
    other = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        assert runner.start() is True
        assert runner.sealer is not None
        sealer = runner.sealer.pid or 0
        _cut_leader_connection(engine)
        # Another process takes the free lock before the leader notices.
        wait_until(lambda: bool(other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
                                .scalar()), 10, "the other process to take the lock")
        wait_until(lambda: not runner.is_leader, 30, "the old leader to step down")
        assert runner.scheduler is None and runner.sealer is None
        assert not Path(f"/proc/{sealer}").exists()  # stopped (and reaped) with the lead

        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        wait_until(lambda: runner.is_leader, 30, "the follower to lead again once the lock is free")
        assert _holders(engine) == 1
    finally:
        other.close()
        runner.shutdown()
