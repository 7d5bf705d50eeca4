"""One service process's scheduler for the two-process test: ``python -m tests.schedules.scheduler_process URL S``.

Both processes do the same thing a naive multi-worker deployment would: start the job runner and ask for a
1-second probe job. Prints one JSON line: whether this process led.

Each run of the probe records which process ran it; the leader's scheduler also records the run time each run
was scheduled for. The scheduled time, not the wall clock at execution, names a run: on a loaded machine a run
that starts late can share its wall-clock second with the next one.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.core.db import make_engine
from service.jobs import tasks as jobs
from service.jobs.scheduler import JobRunner
from tests.conftest import settings_for


def probe() -> None:
    """Record one execution: which process ran it."""
    with jobs.context().engine.begin() as conn:
        conn.execute(text("INSERT INTO probe_run (pid) VALUES (:pid)"), {"pid": os.getpid()})


def record_schedule(engine: Engine) -> Callable[[JobExecutionEvent], None]:
    """A listener that records the scheduled time of each probe run that finished."""
    def listener(event: JobExecutionEvent) -> None:
        if event.job_id == "probe":
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO probe_schedule (pid, scheduled_ms) VALUES (:pid, :ms)"),
                             {"pid": os.getpid(), "ms": int(event.scheduled_run_time.timestamp() * 1000)})
    return listener


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    engine = make_engine(url)
    runner = JobRunner(engine, settings_for(url, scheduler_enabled=True, scheduler_leader_retry_seconds=1))
    led = runner.start()
    if runner.scheduler is not None:
        runner.scheduler.add_listener(record_schedule(engine), EVENT_JOB_EXECUTED)
    runner.add_job("tests.schedules.scheduler_process:probe", "interval", job_id="probe", seconds=1)
    print(json.dumps({"pid": os.getpid(), "led": led}), flush=True)
    time.sleep(seconds)
    print(json.dumps({"pid": os.getpid(), "led_at_end": runner.is_leader}), flush=True)
    runner.shutdown()
    engine.dispose()


if __name__ == "__main__":
    main()
