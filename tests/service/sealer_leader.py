"""A leading process for the sealer-orphan test: ``python -m tests.service.sealer_leader URL DIR``.

Starts the job runner (it leads: nothing else runs on that database), prints its sealer child's pid as one JSON
line, and waits to be killed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from service.core.clock import FrozenClock
from service.core.db import make_engine
from service.jobs.scheduler import JobRunner
from tests.conftest import T0, settings_for


def main() -> None:
    url, directory = sys.argv[1], Path(sys.argv[2])
    settings = settings_for(url, scheduler_enabled=True, audit_checkpoints=str(directory / "checkpoints.jsonl"),
                            audit_signing_key_file=directory / "signing.pem")
    runner = JobRunner(make_engine(url), settings, FrozenClock(T0))
    assert runner.start() and runner.sealer is not None
    print(json.dumps({"sealer": runner.sealer.pid}), flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
