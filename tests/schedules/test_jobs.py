"""Background jobs: each job records what it finds as review flags, once per occurrence; the scheduler's
jobs come from rows with deterministic ids; one scheduler leads per database, even across processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from service.audit.service import SYSTEM
from service.bookings import service as bookings
from service.core.clock import FrozenClock, as_utc
from service.core.db import session_scope
from service.jobs import tasks as jobs
from service.jobs.scheduler import JobRunner
from service.models.bookings import Booking, BookingStatus
from service.models.flags import ReviewFlag
from service.models.jobs import JobRun
from tests.builders.clinic import Clinic, ok, ready_clinic
from tests.conftest import Tenant, fresh_database, settings_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bound(tenant: Tenant, clock: FrozenClock) -> Iterator[Clinic]:
    """A ready clinic, and job functions bound to its database and the frozen clock."""
    app = tenant.app
    jobs.bind(jobs.JobContext(app.state.engine, settings_for("sqlite://"), clock))
    yield ready_clinic(tenant)
    jobs.bind(None)


def _flags(clinic: Clinic, kind: str) -> list[ReviewFlag]:
    with session_scope(clinic.tenant.app.state.engine) as s:
        return list(s.exec(select(ReviewFlag).where(ReviewFlag.clinic_id == clinic.tenant.clinic_id,
                                                    ReviewFlag.kind == kind)).all())


def _planned_course(clinic: Clinic, sessions: int = 36, end: str = "2027-03-31") -> dict[str, Any]:
    course = clinic.course()
    clinic.authorization(int(course["id"]), sessions=sessions, end=end)
    ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={}))
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status", json={"status": "active", "reason": "started"}))
    return course


def _complete(clinic: Clinic, course_id: int, count: int) -> None:
    with session_scope(clinic.tenant.app.state.engine) as s:
        rows = s.exec(select(Booking).where(Booking.course_id == course_id).order_by(col(Booking.start_at))).all()
        for row in [r for r in rows[:count] if r.status == BookingStatus.booked.value]:
            bookings.transition(s, SYSTEM, row, BookingStatus.in_progress, None, as_utc(row.start_at))
            bookings.transition(s, SYSTEM, row, BookingStatus.completed, None, as_utc(row.end_at))


def test_end_of_day_sweep_marks_no_shows_flags_them_and_the_gap(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound)
    clock.advance(timedelta(days=4, hours=10))  # Friday 19:00: Mon-Wed (and Fri) were never checked in
    found = jobs.sweep_missed(bound.tenant.clinic_id)
    assert found is not None and found >= 4
    assert jobs.sweep_missed(bound.tenant.clinic_id) is None  # the occurrence is claimed: runs once
    missed = _flags(bound, "missed_session")
    assert len(missed) == 4 and all(f.course_id == course["id"] for f in missed)
    with session_scope(bound.tenant.app.state.engine) as s:  # (API sessions expired while the clock moved)
        statuses = Counter(b.status for b in s.exec(select(Booking).where(Booking.course_id == course["id"])).all())
    assert statuses["no_show"] == 4


def test_gap_flags_the_course_for_review(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound)
    _complete(bound, int(course["id"]), 1)
    clock.advance(timedelta(days=8))  # a week and a day of no-shows after session 1
    jobs.sweep_missed(bound.tenant.clinic_id)
    gaps = _flags(bound, "gap")
    assert len(gaps) == 1 and "motor threshold is stale" in gaps[0].message


def test_phq9_due_weekly_once(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound)
    assert jobs.phq9_due(int(course["id"])) == 1
    assert jobs.phq9_due(int(course["id"])) is None
    clock.advance(timedelta(days=7))
    assert jobs.phq9_due(int(course["id"])) == 1
    assert len(_flags(bound, "phq9_due")) == 2


def test_mt_redetermination_due_after_five_sessions(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound)
    _complete(bound, int(course["id"]), 5)
    clock.advance(timedelta(days=4))
    assert jobs.mt_due(int(course["id"])) == 0  # first session carries the determination; 4 since then
    _complete(bound, int(course["id"]), 6)
    clock.advance(timedelta(days=1))
    assert jobs.mt_due(int(course["id"])) == 1
    assert "5 sessions" in _flags(bound, "mt_due")[0].message


def test_authorization_running_out(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound, sessions=3, end="2026-11-27")
    auth = ok(bound.tech.get(f"/api/v1/authorizations?course_id={course['id']}"))[0]
    assert jobs.authorization_check(auth["id"]) == 2
    assert jobs.authorization_check(auth["id"]) is None
    messages = sorted(f.message for f in _flags(bound, "authorization_low"))
    assert "3 session units left" in messages[0] and "ends on 2026-11-27" in messages[1]


def test_sae_deadline_hook(bound: Clinic, clock: FrozenClock) -> None:
    due = (clock.now() + timedelta(days=10)).isoformat()
    assert jobs.sae_reporting_deadline(77, bound.tenant.clinic_id, None, due) == 1
    assert jobs.sae_reporting_deadline(77, bound.tenant.clinic_id, None, due) is None
    assert _flags(bound, "sae_report_due")[0].key == "sae:77"


def test_jobs_are_derived_from_rows_with_deterministic_ids(db_kind: str, tmp_path: Path) -> None:
    from service.app import create_app
    from tests.conftest import T0, make_tenant

    url, engine = fresh_database(db_kind, tmp_path)
    app = create_app(settings_for(url), engine=engine, clock=FrozenClock(T0))
    clinic = ready_clinic(make_tenant(app))
    course = _planned_course(clinic)
    settings = settings_for(url, scheduler_enabled=True, scheduler_leader_retry_seconds=1)
    first, second = JobRunner(engine, settings, FrozenClock(T0)), JobRunner(engine, settings, FrozenClock(T0))
    try:
        assert first.start() is True
        assert second.start() is False  # one scheduler per database
        assert first.scheduler is not None
        ids = {j.id for j in first.scheduler.get_jobs(jobstore="default")}
        # Only the leader seals the audit trail, in a child process rather than a job of its scheduler.
        assert first.sealer is not None and first.sealer.running() and second.sealer is None
        cid, pid = clinic.tenant.clinic_id, course["id"]
        assert {f"sweep:{cid}", f"phq9:{pid}", f"mt:{pid}", "sync"} <= ids
        assert first.sync() == first.sync()  # a second sync changes nothing
        with engine.connect() as conn:
            stored = {r[0] for r in conn.execute(text("SELECT id FROM apscheduler_jobs"))}
        assert ids == stored
    finally:
        first.shutdown()
        second.shutdown()
        engine.dispose()


def test_two_processes_run_each_job_once(db_kind: str, tmp_path: Path) -> None:
    """Two service processes on one database: the lock elects one scheduler; every probe run comes from it."""
    url, engine = fresh_database(db_kind, tmp_path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe_run (pid INTEGER NOT NULL)"))
        conn.execute(text("CREATE TABLE probe_schedule (pid INTEGER NOT NULL, scheduled_ms BIGINT NOT NULL)"))
    procs = [subprocess.Popen([sys.executable, "-m", "tests.schedules.scheduler_process", url, "5"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    lines = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    leaders = [line["pid"] for line in lines if line.get("led")]
    assert len(leaders) == 1, lines
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT pid FROM probe_run")).all()
        scheduled = conn.execute(text("SELECT pid, scheduled_ms FROM probe_schedule")).all()
        claims = conn.execute(select(JobRun.runner)).all()
    engine.dispose()
    assert runs, "the leader's scheduler ran the probe"
    assert {pid for (pid,) in runs} == set(leaders)
    assert len(scheduled) == len(runs), "every run was one the leader's scheduler scheduled"
    assert max(Counter(ms for _, ms in scheduled).values()) == 1  # each scheduled second ran once, never twice
    assert {runner.split(":")[-1] for (runner,) in claims} <= {str(leaders[0])}


def test_a_phq9_recorded_this_week_means_none_is_due(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound)
    ok(bound.tech.post(f"/api/v1/patients/{course['patient_id']}/assessments", json={
        "instrument": "PHQ-9", "course_id": course["id"], "items": [2, 2, 2, 2, 2, 2, 2, 2, 0, None],
        "administered_at": (clock.now() - timedelta(days=2)).isoformat()}), 201)
    assert jobs.phq9_due(int(course["id"])) == 0
    assert _flags(bound, "phq9_due") == []


def test_a_fresh_mt_determination_restarts_the_count(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound)
    _complete(bound, int(course["id"]), 6)
    clock.advance(timedelta(days=5))
    tech = bound.tenant.fresh_client("technician")  # the earlier sign-in expired while the clock moved
    ok(tech.post(f"/api/v1/patients/{course['patient_id']}/motor-thresholds", json={
        "determined_at": (clock.now() - timedelta(hours=1)).isoformat(), "method": "visual", "muscle": "APB",
        "value_pct_mso": 52, "device_id": bound.device_id}), 201)
    assert jobs.mt_due(int(course["id"])) == 0


def test_serious_adverse_event_deadlines_come_from_open_reporting_tasks(bound: Clinic, clock: FrozenClock) -> None:
    course = _planned_course(bound)
    ok(bound.tech.post(f"/api/v1/patients/{course['patient_id']}/adverse-events", json={
        "course_id": course["id"], "term": "seizure", "grade": 3,
        "onset_at": (clock.now() - timedelta(hours=3)).isoformat()}), 201)
    with session_scope(bound.tenant.app.state.engine) as s:
        deadlines = jobs.sae_deadlines(s)
    mine = [d for d in deadlines if d[1] == bound.tenant.clinic_id]
    assert len(mine) == 1 and mine[0][2] == course["patient_id"]
    assert mine[0][3].date().isoformat() == "2026-12-08"  # 10 work days after Mon 23 Nov, skipping Thanksgiving
