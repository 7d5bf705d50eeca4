"""`bench.load` still runs: it serves the clinic as a deployment does (production settings, the scheduler's
audit sealer on) and drives every kind of caller through it. A bench that no longer starts measures nothing, and
nothing else starts `tmsops serve` with production settings."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import _pg_admin_url

OPERATION_ROW = re.compile(r" (agent|tech|psych): | all staff operations ")


def test_the_load_bench_serves_a_production_configured_clinic_and_every_call_succeeds(db_kind: str) -> None:
    where = ["--configs", "sqlite"] if db_kind == "sqlite" else [
        "--configs", "pg1", "--database-url", str(_pg_admin_url())]
    run = subprocess.run([sys.executable, "-m", "bench.load", "--duration", "3", "--chairs", "2", "--technicians",
                          "1", "--psychiatrists", "1", "--patients", "4", *where],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    # Each operation's row ends: requests, req/s, p50 ms, p99 ms, errors.
    rows = [line.split()[-5:] for line in run.stdout.splitlines() if OPERATION_ROW.search(line)]
    assert len(rows) == 13, run.stdout  # 3 agent, 5 technician and 4 psychiatrist operations, and the staff total
    assert all(int(requests) > 0 and errors == "0" for requests, *_, errors in rows), run.stdout
