"""One scheduler per database however many `tmsops serve` processes run, and a new one when it dies.

The job observed is the serious-adverse-event reporting deadline: derived from rows (an open reporting task),
due at once when the deadline is near or past, and it records who ran it in ``job_run`` (host:pid).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text

from tests.builders.clinic import ok
from tests.scale.cluster import Cluster, Node, RemoteTenant, cluster, remote_tenant

T = TypeVar("T")


def eventually(probe: Callable[[], T], done: Callable[[T], bool], what: str, timeout_s: float = 45) -> T:
    """Poll ``probe`` until ``done`` holds; the timeout only bounds a hang, it asserts nothing about speed."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout_s} s")
        time.sleep(0.2)


def serious_adverse_event(staff: RemoteTenant, node: int) -> int:
    """A seizure a month ago that the clinic learnt of then: its 10-work-day report is overdue, so due now."""
    psych, tech = staff.client("psychiatrist", node), staff.client("technician", node)
    patient = ok(tech.post("/api/v1/patients", json={
        "mrn": f"SAE-{time.monotonic_ns()}", "family_name": "Doe", "given_name": "Jo", "date_of_birth": "1970-01-01",
        "sex": "female", "primary_diagnosis": "F33.2"}), 201)
    course = ok(psych.post("/api/v1/courses", json={"patient_id": patient["id"], "protocol_id": "hf10_3000_iti26",
                                                    "intensity_pct_mt": 120,
                                                    "eligibility_exception": {"basis": "self_pay",
                                                                              "reason": "self-pay, scale test"}}),
                201)
    onset = datetime.now(UTC) - timedelta(days=30)
    event = ok(tech.post(f"/api/v1/patients/{patient['id']}/adverse-events", json={
        "course_id": course["id"], "term": "seizure", "grade": 3, "onset_at": onset.isoformat(),
        "aware_on": onset.date().isoformat()}), 201)
    assert event["serious"] is True
    return int(event["id"])


def runners(c: Cluster, job_id: str) -> list[str]:
    with c.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT runner FROM job_run WHERE job_id = :j"), {"j": job_id})]


def pid_of(runner: str) -> int:
    return int(runner.rsplit(":", 1)[1])


def test_one_of_two_processes_leads_runs_each_job_once_and_the_other_takes_over_after_sigkill(
    pg_admin: str, tmp_path: Path,
) -> None:
    with cluster(pg_admin, tmp_path) as c:
        holders = c.scheduler_holders()
        assert len(holders) == 1, holders  # both are up (their lifespans ran): exactly one holds the lock
        leader: Node = next(n for n in c.nodes if n.name == holders[0])
        follower: Node = next(n for n in c.nodes if n is not leader)
        staff = remote_tenant(c)
        try:
            first = serious_adverse_event(staff, node=c.nodes.index(follower))  # written through the follower
            ran = eventually(lambda: runners(c, f"sae:{first}"), bool, "the leader's deadline job")
            assert [pid_of(r) for r in ran] == [leader.pid]
            with c.engine.connect() as conn:
                all_runs = [r[0] for r in conn.execute(text("SELECT runner FROM job_run"))]
            assert {pid_of(r) for r in all_runs} == {leader.pid}  # the follower ran nothing

            leader.kill()
            eventually(c.scheduler_holders, lambda h: h == [follower.name], "the follower taking the lock")
            second = serious_adverse_event(staff, node=c.nodes.index(follower))
            ran = eventually(lambda: runners(c, f"sae:{second}"), bool, "the new leader's deadline job")
            assert [pid_of(r) for r in ran] == [follower.pid]
            # The new leader derives the first deadline again on every sync (its task is still open, so the job
            # is due); the claim the dead leader made keeps it from being done twice.
            assert [pid_of(r) for r in runners(c, f"sae:{first}")] == [leader.pid]
            with c.engine.connect() as conn:
                flags = conn.execute(text("SELECT key FROM review_flag WHERE kind = 'sae_report_due' "
                                          "ORDER BY key")).scalars().all()
            assert flags == sorted([f"sae:{first}", f"sae:{second}"])
        finally:
            staff.close()
