"""One service process's scheduler for the two-process test: ``python -m tests.schedules.scheduler_process URL S``.

Both processes do the same thing a naive multi-worker deployment would: start the job runner and ask for a
1-second probe job. Prints one JSON line: whether this process led.
"""

from __future__ import annotations

import json
import os
import sys
import time

from sqlalchemy import text

from service.core.db import make_engine
from service.jobs import tasks as jobs
from service.jobs.scheduler import JobRunner
from tests.conftest import settings_for


def probe() -> None:
    """Record one execution: which process ran it, and the second it ran in."""
    engine = jobs.context().engine
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO probe_run (pid, tick) VALUES (:pid, :tick)"),
                     {"pid": os.getpid(), "tick": int(time.time())})


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    engine = make_engine(url)
    runner = JobRunner(engine, settings_for(url, scheduler_enabled=True, scheduler_leader_retry_seconds=1))
    led = runner.start()
    runner.add_job("tests.schedules.scheduler_process:probe", "interval", job_id="probe", seconds=1)
    print(json.dumps({"pid": os.getpid(), "led": led}), flush=True)
    time.sleep(seconds)
    print(json.dumps({"pid": os.getpid(), "led_at_end": runner.is_leader}), flush=True)
    runner.shutdown()
    engine.dispose()


if __name__ == "__main__":
    main()
