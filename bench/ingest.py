"""`python -m bench.ingest`: delivery events per second through the batch endpoint, 100 chairs at once,
beside raw inserts of the same rows into the same table by the same driver, in the same run.

Each chair streams one session's events (train start, one event per pulse, temperature, train end) in
batches of ``--batch`` like the agent's sender; the raw side inserts the same number of rows in
transactions of the same size, so the ratio is what validation, idempotency and folding cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert
from sqlmodel import Session, select

import service.models  # noqa: F401  (every table, so foreign keys resolve)
from bench.harness import Result, print_table, served
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


def _events(session_id: int, trains: int, ppt: int) -> list[dict[str, Any]]:
    at = datetime.now(UTC)
    out: list[dict[str, Any]] = []

    def add(kind: str, **payload: Any) -> None:
        nonlocal at
        at += timedelta(milliseconds=100)
        out.append({"device": f"DEV-{session_id}", "device_session": f"s{session_id}", "seq": len(out) + 1,
                    "session_id": session_id, "kind": kind, "at": at.isoformat(), "payload": payload})

    for train in range(1, trains + 1):
        add("train_started", train=train, planned_pulses=ppt)
        for n in range(ppt):
            add("pulses_delivered", count=1, total=(train - 1) * ppt + n + 1, train=train)
        add("train_ended", train=train, delivered_pulses=ppt, completed=True)
    return out


def _stream(base: str, token: str, events: list[dict[str, Any]], batch: int) -> list[float]:
    lat = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for i in range(0, len(events), batch):
            t0 = time.perf_counter()
            r = client.post("/api/v1/agent/events", json={"events": events[i:i + batch]})
            lat.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(r.text)
    return lat


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
    parser.add_argument("--trains", type=int, default=5)
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
        streams = [_events(sid, args.trains, args.pulses_per_train) for sid in sessions]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(min(args.chairs, 32)) as pool:
            lat = [x for chunk in pool.map(lambda ev: _stream(base, token, ev, args.batch), streams) for x in chunk]
        total = sum(len(s) for s in streams)
        api = Result(f"POST /agent/events, {args.chairs} chairs", total, 0, time.perf_counter() - t0, lat)
        raw = _raw(db_url, clinic_id, total, args.batch)
    label = "SQLite" if db_url.startswith("sqlite") else "PostgreSQL"
    print_table(f"bench.ingest: one service process, {label}; rows = events (batches of {args.batch})",
                [api, raw])
    print(f"\ningest: {api.rate:,.0f} events/s vs raw {raw.rate:,.0f} rows/s "
          f"({api.rate / raw.rate:.0%} of raw); p99 of an ingest call {api.pct(0.99):.1f} ms")


if __name__ == "__main__":
    main()
