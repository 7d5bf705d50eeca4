"""`python -m bench.ingest`: delivery events per second through the batch endpoint, 100 chairs at once,
beside raw inserts of the same rows into the same table by the same driver, in the same run.

wrk drives the chairs (``bench/ingest.lua``): each streams its session's events (train start, one event per
pulse, train end) in batches of ``--batch`` like the agent's sender, with 8 calls in flight and then with one per
chair of half the chairs. The raw side inserts as many rows as the service stored, in transactions of the same
size, so the ratio is what validation, idempotency and folding cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, insert
from sqlmodel import Session, col, select

import service.models  # noqa: F401  (every table, so foreign keys resolve)
from bench import wrk
from bench.harness import Result, served
from service.core.db import make_engine, session_scope
from service.models.clinics import Clinic
from service.models.sessions import DeliveryEventRow
from service.models.users import User
from tests.builders.delivery import delivery_world

PASSWORD = "bench password 123"


def _user(db_url: str, name: str, role: str) -> None:
    env = os.environ | {"TMS_DATABASE_URL": db_url}
    subprocess.run([sys.executable, "-m", "service.cli", "create-user", "--username", name, "--role", role,
                    "--clinic", "Ingest Bench"], input=PASSWORD + "\n", text=True, env=env, check=True,
                   capture_output=True)


def _worlds(db_url: str, chairs: int) -> tuple[int, list[int]]:
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        clinic = s.exec(select(Clinic).where(Clinic.name == "Ingest Bench")).one()
        tech = s.exec(select(User).where(User.username == "bench-tech")).one()
        ids = [delivery_world(s, clinic.id or 0, tech.id or 0, now, tag=f"b{i}", slot=i).session_id
               for i in range(chairs)]
    return clinic.id or 0, ids


_SCRIPT = str(Path(__file__).with_name("ingest.lua"))


def _stream(base: str, token: str, sessions: list[int], batch: int, per_train: int, seconds: float,
            connections: int) -> wrk.WrkResult:
    """wrk posts each chair's events in batches (bench/ingest.lua): ``connections`` calls in flight at most."""
    return wrk.run(f"POST /agent/events, {len(sessions)} chairs, {connections} in flight",
                   f"{base}/api/v1/agent/events", connections=connections, seconds=seconds,
                   headers={"Authorization": f"Bearer {token}"},
                   script=_SCRIPT, script_args=[str(batch), str(per_train), *map(str, sessions)])


def _stored(db_url: str, sessions: list[int]) -> int:
    """Events the service stored for these sessions: each key once, however the calls went."""
    with Session(make_engine(db_url)) as s:
        return int(s.exec(select(func.count()).select_from(DeliveryEventRow)
                          .where(col(DeliveryEventRow.session_id).in_(sessions))).one())


def _raw(db_url: str, clinic_id: int, rows: int, batch: int) -> Result:
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    lat = []
    t0 = time.perf_counter()
    for start in range(0, rows, batch):
        values = [{"clinic_id": clinic_id, "session_id": None, "device": "RAW", "device_session": "raw",
                   "seq": start + i + 1, "kind": "pulses_delivered", "at": now, "received_at": now,
                   "payload": {"count": 1}} for i in range(min(batch, rows - start))]
        t1 = time.perf_counter()
        with Session(engine) as s:
            s.execute(insert(DeliveryEventRow), values)
            s.commit()
        lat.append((time.perf_counter() - t1) * 1000)
    return Result(f"raw INSERT, {batch} rows/transaction", rows, 0, time.perf_counter() - t0, lat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chairs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10, help="length of each wrk run")
    parser.add_argument("--pulses-per-train", type=int, default=40)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to run on: a fresh database is created there and dropped after "
                             "(default: a temporary SQLite file)")
    args = parser.parse_args()
    with served(args.database_url) as (base, db_url):
        _user(db_url, "bench-agent", "agent")
        _user(db_url, "bench-tech", "technician")
        clinic_id, sessions = _worlds(db_url, args.chairs)
        token = httpx.post(f"{base}/api/v1/auth/token",
                           data={"username": "bench-agent", "password": PASSWORD}).json()["access_token"]
        runs = [_stream(base, token, sessions[:args.chairs // 2], args.batch, args.pulses_per_train,
                        args.seconds, connections=8),
                _stream(base, token, sessions[args.chairs // 2:], args.batch, args.pulses_per_train,
                        args.seconds, connections=args.chairs // 2)]
        stored = _stored(db_url, sessions)
        raw = _raw(db_url, clinic_id, stored, args.batch)
    label = "SQLite" if db_url.startswith("sqlite") else "PostgreSQL"
    # The raw side as a row of calls: its transactions of ``batch`` rows.
    raw_row = wrk.WrkResult(raw.name, raw.requests // args.batch, 0, raw.rate / args.batch, raw.pct(0.5),
                            raw.pct(0.99))
    wrk.print_table(f"bench.ingest: one service process, {label}; each call carries {args.batch} events",
                    [*runs, raw_row], per_request=args.batch, unit="events/s")
    sent = sum(r.requests for r in runs) * args.batch
    best = max(runs, key=lambda r: r.rate)
    print(f"\nstored {stored:,} events of {sent:,} answered (calls cut off at a run's end may be stored unanswered)")
    print(f"ingest: {best.rate * args.batch:,.0f} events/s vs raw {raw.rate:,.0f} rows/s "
          f"({best.rate * args.batch / raw.rate:.0%} of raw; target >= 50% and >= 20,000 events/s); "
          f"p99 of a call {runs[0].p99_ms:.1f} ms with 8 in flight, {runs[1].p99_ms:.1f} ms with "
          f"{args.chairs // 2} (target < 100 ms)")


if __name__ == "__main__":
    main()
