"""`python -m bench.faults --rounds N`: the SIGKILL loops of tests/faults, run longer.

Delivers N sessions while SIGKILLing the service (2-3 times per delivery) and N more while SIGKILLing
the agent (after it took a command, mid-train, between trains, in the final flush, at random), on a
database of its own (a temporary SQLite file, or a fresh database created on the PostgreSQL server given
by --database-url and dropped afterwards). Prints one row per loop; every column but rounds, kills and
events must be 0, and the exit status is 1 otherwise. Not part of `make test` (which runs ~13-25 kills
of each kind); not a speed benchmark either: the seconds column is only there to size a run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from service.core.db import make_engine, normalize_url
from service.core.migrate import upgrade
from tests.conftest import PASSWORD, create_pg_database, drop_pg_database
from tests.faults.loops import Tally, agent_kill_loop, audit_verify, service_kill_loop
from tests.faults.processes import AgentProcess, ServiceProcess
from tests.faults.rig import Rig

LOOPS = {"service": service_kill_loop, "agent": agent_kill_loop}
COLUMNS = ("rounds", "kills", "events", "lost", "duplicated", "foreign", "lying", "armed")


def run_loop(kind: str, url: str, rounds: int, seed: int, work: Path, model: str) -> tuple[Tally, float, bool]:
    """One loop on ``url`` with its own service, chair and agent; returns the tally, seconds, audit verdict."""
    engine = make_engine(url)
    rig = Rig.create(url, engine, model, f"bench-{kind}")
    log_dir = work / kind
    log_dir.mkdir()
    service = ServiceProcess(url, log_dir, env={"TMS_SESSION_LOST_AFTER_S": "2"})
    secret = log_dir / "agent.secret"
    secret.write_text(PASSWORD)
    agent = AgentProcess(service.base, rig.chair_id, rig.model, rig.tenant.usernames["agent"], secret,
                         log_dir / "outbox.db", log_dir, speed=20)
    tally = Tally(f"{kind} SIGKILL", seed)
    started = time.perf_counter()
    try:
        service.start()
        agent.start()
        LOOPS[kind](rig, service, agent, random.Random(seed), 0, tally, rounds=rounds)
    finally:
        agent.kill()
        service.kill()
        engine.dispose()
    seconds = time.perf_counter() - started
    return tally, seconds, audit_verify(url).returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="deliveries per loop (default 50)")
    parser.add_argument("--loops", default="service,agent", help="which loops: service, agent or both")
    parser.add_argument("--model", default="magventure-x100",
                        help="simulated stimulator (default magventure-x100: exact pulse counts; magstim-rapid2: "
                             "counts per train)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill points (default: random)")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server (a user that may create databases); default: a temporary SQLite")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    work = Path(tempfile.mkdtemp(prefix="tmsops-faults-"))
    admin = normalize_url(args.database_url) if args.database_url else None
    url = create_pg_database(admin) if admin else f"sqlite:///{work / 'faults.db'}"
    label = make_url(url).get_backend_name()
    print(f"seed {seed}, {args.rounds} rounds per loop on {label}, {args.model}; process logs in {work}")
    rows: list[tuple[Tally, float, bool]] = []
    try:
        upgrade(url)
        for kind in args.loops.split(","):
            rows.append(run_loop(kind.strip(), url, args.rounds, seed, work, args.model))
    finally:
        if admin:
            drop_pg_database(admin, url)
    header = f"{'loop':<16}" + "".join(f"{c:>11}" for c in COLUMNS) + f"{'audit':>8}{'seconds':>9}"
    print(f"\nSIGKILL loops on {label}, {args.model} (seed {seed})\n{header}\n{'-' * len(header)}")
    for tally, seconds, audit_ok in rows:
        print(f"{tally.name:<16}" + "".join(f"{getattr(tally, c):>11}" for c in COLUMNS)
              + f"{'ok' if audit_ok else 'BROKEN':>8}{seconds:>9.0f}")
    for tally, _, _ in rows:
        print(f"\n{tally.name} kills by phase: " + ", ".join(f"{p} {n}" for p, n in tally.phases.most_common()))
        print(f"{tally.name} sessions ended: " + ", ".join(f"{s} {n}" for s, n in tally.outcomes.most_common()))
        for problem in tally.problems:
            print(f"  {problem}")
    clean = all(t.clean and ok for t, _, ok in rows)
    print("\nall clean" if clean else f"\nFAILURES (replay with --seed {seed})")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
