"""A service process dies in the middle of a session: the chair agent, behind a balancer, carries on through the
other one, and the record ends exactly as delivered."""

from __future__ import annotations

from pathlib import Path

from tests.scale.balancer import RoundRobin
from tests.scale.chair import ENDED, chair_agent, started_session, wait_for_session
from tests.scale.cluster import cluster, remote_tenant


def test_a_process_sigkilled_mid_session_loses_no_pulse_and_doubles_none(pg_admin: str, tmp_path: Path) -> None:
    (tmp_path / "nodes").mkdir()
    with cluster(pg_admin, tmp_path / "nodes") as c:
        staff = remote_tenant(c)
        balancer = RoundRobin([n.port for n in c.nodes])
        try:
            started = started_session(staff)
            # Speed 20: the 190 s iTBS session takes ~10 s, long enough to kill a process in the middle of it.
            with chair_agent(staff, started.chair_id, balancer.base, tmp_path, speed=20) as agent:
                wait_for_session(staff, started.session_id, agent,
                                 lambda r: r["status"] == "delivering" and r["trains_delivered"] >= 3, "3 trains")
                victim = next((n for n in reversed(c.nodes) if balancer.open[n.port]), None)
                assert victim is not None, balancer.open  # the agent holds a connection to some process
                survivor = next(i for i, n in enumerate(c.nodes) if n is not victim)
                mid = wait_for_session(staff, started.session_id, agent, lambda r: True, "a read", node=survivor)
                victim.kill()
                record = wait_for_session(staff, started.session_id, agent, lambda r: r["status"] in ENDED,
                                          "its end", node=survivor)
            assert mid["status"] == "delivering" and mid["trains_delivered"] < 20  # the kill came mid-session
            assert record["status"] == "completed", record
            assert (record["pulses_delivered"], record["trains_delivered"]) == (600, 20)
            assert sorted((t["train"], t["delivered_pulses"], t["completed"]) for t in record["trains"]) == [
                (n, 30, True) for n in range(1, 21)]
        finally:
            balancer.close()
            staff.close()
