"""PostgreSQL restarted while an agent streams a delivery into a live `tmsops serve`.

The agent buffers what the service cannot store and drains it afterwards, every event once; the service
process recovers without being restarted (pooled connections are checked before use), and so does its
scheduler's leader lock, which lived on a connection the restart cut. An engine made before the restart
(as the suite's session-scoped ones are) still works after it.

This restarts the whole shared server (every database on it): it runs once per suite, on a database of
its own, and leaves the cluster up. Without root and a local cluster it skips, except under CI=true.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.clock import as_utc
from service.jobs.scheduler import ADVISORY_KEY
from service.models.sessions import ChairStatus, TreatmentSession
from tests.conftest import IN_CI, PASSWORD, _pg_admin_url, _pg_reachable, drop_pg_database, fresh_database
from tests.faults.evidence import judge, outbox_keys, stored_events, wait_for_end, wait_until
from tests.faults.loops import audit_verify
from tests.faults.postgres_cluster import Cluster, local_cluster
from tests.faults.processes import AgentProcess, ServiceProcess
from tests.faults.rig import Rig, protocol


@dataclass
class RestartablePostgres:
    url: str
    engine: Engine
    cluster: Cluster


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but the PostgreSQL restart test cannot run: {reason}")
    pytest.skip(f"PostgreSQL restart test skipped: {reason}")


@pytest.fixture
def restartable_postgres(tmp_path: Path) -> Iterator[RestartablePostgres]:
    """A fresh database on the local cluster, which this test may restart; dropped afterwards."""
    admin = _pg_admin_url()
    if admin is None:
        _unavailable("set TMS_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    assert admin is not None
    problem = _pg_reachable(admin)
    if problem:
        _unavailable(f"server unreachable ({problem})")
    cluster, why = local_cluster(admin)
    if cluster is None:
        _unavailable(why)
    assert cluster is not None
    url, engine = fresh_database("postgres", tmp_path)
    try:
        yield RestartablePostgres(url, engine, cluster)
    finally:
        cluster.ensure_up()
        engine.dispose()
        drop_pg_database(admin, url)


def leader_locks(engine: Engine) -> int:
    """Holders of the scheduler's advisory lock in this database."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :hi AND objid = :lo "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"hi": ADVISORY_KEY >> 32, "lo": ADVISORY_KEY & 0xFFFFFFFF}).scalar_one())


def stored_keys(engine: Engine, session_id: int) -> list[tuple[str, str, int]]:
    return [(e.device, e.device_session, e.seq) for e in stored_events(engine, session_id)]


def test_postgresql_restarted_during_ingestion_the_agent_buffers_and_drains_exactly_once(
        restartable_postgres: RestartablePostgres, tmp_path: Path) -> None:
    pg = restartable_postgres
    rig = Rig.create(pg.url, pg.engine, "magventure-x100", "pgrestart")
    service = ServiceProcess(pg.url, tmp_path, env={"TMS_SCHEDULER_ENABLED": "true",
                                                    "TMS_SCHEDULER_LEADER_RETRY_SECONDS": "1"})
    secret = tmp_path / "agent.secret"
    secret.write_text(PASSWORD)
    # 20 trains of 40 pulses, 2 s apart, at 5x: 0.8 s trains with 0.4 s pauses, ~24 s in all. The restart
    # comes after about 1.5 trains, so the device is still delivering (and the agent recording) while the
    # database is down, however slow a loaded CI machine is to restart it.
    agent = AgentProcess(service.base, rig.chair_id, rig.model, rig.tenant.usernames["agent"], secret,
                         tmp_path / "outbox.db", tmp_path, speed=5)
    try:
        service.start()
        wait_until(lambda: leader_locks(pg.engine) == 1, 30, "the service's scheduler to take the leader lock")
        agent.start()
        session_id = rig.start_session(protocol(20, 40, iti_s=2.0))
        wait_until(lambda: len(stored_keys(pg.engine, session_id)) >= 60, 60, "the delivery to stream in")

        stored_before = set(stored_keys(pg.engine, session_id))
        with Session(pg.engine) as s:
            live = s.get(TreatmentSession, session_id)
            assert live is not None and live.ended_at is None, "the delivery ended before the restart began"
        pg.cluster.restart()
        back = datetime.now(UTC)
        recorded_meanwhile = set(outbox_keys(agent.outbox, session_id)) - stored_before

        ts = wait_for_end(pg.engine, session_id, 120)  # this engine's pooled connections died in the restart
        assert ts.status == "completed", ts.end_reason
        assert (ts.pulses_delivered, ts.trains_delivered) == (800, 20)
        verdict = judge(pg.engine, session_id, agent.outbox)
        assert verdict.ok, verdict
        # What the agent recorded while the database restarted was kept and arrived once it was back.
        assert recorded_meanwhile and recorded_meanwhile <= set(stored_keys(pg.engine, session_id))

        # The same service process carried on: no restart, heartbeats stored again, the leader lock re-taken.
        assert service.starts == 1 and service.proc is not None and service.proc.poll() is None

        def beat_after_restart() -> bool:
            with Session(pg.engine) as s:
                status = s.get(ChairStatus, rig.chair_id)
                return status is not None and as_utc(status.seen_at) > back
        wait_until(beat_after_restart, 30, "a heartbeat stored after the restart")
        wait_until(lambda: leader_locks(pg.engine) == 1, 30, "the scheduler to hold its leader lock again")
        verified = audit_verify(pg.url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        agent.kill()
        service.kill()
