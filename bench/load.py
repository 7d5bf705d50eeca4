"""`python -m bench.load`: chairs streaming delivery events while technicians and psychiatrists work.

Three configurations in one run, each on a fresh database with the same clinic and the same load:
(a) one `tmsops serve` process on PostgreSQL, (b) two processes sharing that PostgreSQL database, the clients
spreading their requests round-robin over both (as a reverse proxy would), (c) one process on SQLite.

The load, for ``--duration`` seconds:
- ``--chairs`` chair agents, each doing what `tmsops agent` does during a 10 Hz session (40-pulse trains, 26 s
  apart, one event per pulse, at ``--speed`` times real time): every 0.1 s it posts what its outbox holds as one
  batch, every 2 s a heartbeat, and it keeps a command long-poll open (``wait`` ≤ 10 s, held by the server);
- ``--technicians`` technicians: chair day, a live session's record, patient list, log an adverse event, book;
- ``--psychiatrists`` psychiatrists: course page (HTML), a patient's adverse events, amend one, review queue;
staff repeat their round without pause (``--think`` adds one), so their rate is what the service gives them.

Prints configuration × operation class → requests, requests/s, p50, p99, errors. Any error (a 4xx/5xx or a
failed request) makes the exit status 1. PostgreSQL configurations need ``--database-url`` (a server: a fresh
database is created there per configuration and dropped after); without it only SQLite runs.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.harness import fresh_database, serving
from bench.load_world import WRITE, World, build
from service.audit.keys import write_signing_key

TRAINS, PULSES, HZ, ITI_S = 75, 40, 10.0, 26.0  # the delivery_world session: 3000 pulses at 10 Hz
CONFIGS = {"pg1": ("PostgreSQL, 1 process", True, 1), "pg2": ("PostgreSQL, 2 processes", True, 2),
           "sqlite": ("SQLite, 1 process", False, 1)}


@dataclass
class Recorder:
    """Latencies and errors per operation class, from every worker thread."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, op: str, send: Callable[..., httpx.Response], url: str, *, expect: int = 200,
             **kwargs: Any) -> httpx.Response | None:
        """``send(url, **kwargs)``, timed; anything but ``expect`` (or no response) counts as an error."""
        t0 = time.perf_counter()
        try:
            response: httpx.Response | None = send(url, **kwargs)
            failed = response is None or response.status_code != expect
            detail = f"{response.status_code} {response.text[:200]}" if response is not None else ""
        except httpx.HTTPError as exc:
            response, failed, detail = None, True, repr(exc)
        ms = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.latencies[op].append(ms)
            if failed:
                self.errors[op] += 1
                if len(self.samples) < 5:
                    self.samples.append(f"{op}: {detail}")
        return response


class Rotor:
    """One keep-alive client per service process; each request goes to the next process (round robin)."""

    def __init__(self, bases: list[str], token: str) -> None:
        headers = WRITE | {"Authorization": f"Bearer {token}"}
        self.clients = [httpx.Client(base_url=b, headers=headers, timeout=60) for b in bases]
        self.n = 0

    def __call__(self) -> httpx.Client:
        self.n += 1
        return self.clients[self.n % len(self.clients)]

    def close(self) -> None:
        for c in self.clients:
            c.close()


def timeline(session_id: int, start: datetime, speed: float) -> list[tuple[float, dict[str, Any]]]:
    """Every event of the session with the (scaled) second it happens at: train start, pulses, temperature, end."""
    out: list[tuple[float, dict[str, Any]]] = []
    t = 0.0

    def add(kind: str, **payload: Any) -> None:
        at = (start + timedelta(seconds=t)).isoformat()
        out.append((t / speed, {"device": f"LOAD-{session_id}", "device_session": f"run-{session_id}",
                                "seq": len(out) + 1, "session_id": session_id, "kind": kind, "at": at,
                                "payload": payload}))

    for train in range(1, TRAINS + 1):
        add("train_started", train=train, planned_pulses=PULSES)
        for n in range(PULSES):
            t += 1 / HZ
            add("pulses_delivered", count=1, total=(train - 1) * PULSES + n + 1, train=train)
        add("coil_temperature", celsius=25.0 + train / 10)
        add("train_ended", train=train, delivered_pulses=PULSES, completed=True)
        t += ITI_S
    return out


def chair(i: int, world: World, bases: list[str], rec: Recorder, stop: threading.Event, speed: float) -> None:
    """One chair agent's sender and heartbeat: batches of what became due every 0.1 s, a heartbeat every 2 s."""
    rotor = Rotor(bases, world.tokens["agent"])
    session_id, chair_id = world.sessions[i], world.chairs[i]
    phase = (i * 2.9) % (ITI_S / speed)  # chairs are at different points of their trains
    events = timeline(session_id, datetime.now(UTC), speed)
    sent, t0, beat = 0, time.monotonic() - phase, 0.0
    while not stop.is_set():
        now = time.monotonic() - t0
        due = sent
        while due < len(events) and events[due][0] <= now and due - sent < 200:
            due += 1
        if due > sent:
            batch = [e for _, e in events[sent:due]]
            rec.call("agent: POST events", rotor().post, "/api/v1/agent/events", json={"events": batch})
            sent = due
        if now - beat >= 2:
            beat = now
            body = {"chair_id": chair_id, "connected": True, "model": "magventure-x100", "state": "delivering",
                    "active_session_id": session_id, "outbox_unsent": len(events) - sent, "coil_temp_c": 30.0}
            rec.call("agent: heartbeat", rotor().post, "/api/v1/agent/heartbeat", json=body, expect=204)
        stop.wait(0.1)
    rotor.close()


def long_poll(i: int, world: World, bases: list[str], rec: Recorder, stop: threading.Event, until: float) -> None:
    """The agent's command long-poll: always one open per chair, each held by the server until ``wait`` runs out."""
    rotor = Rotor(bases, world.tokens["agent"])
    while not stop.is_set():
        wait = min(10.0, until - time.monotonic())
        if wait < 0.5:
            break
        rec.call("agent: command long-poll (held)", rotor().get, "/api/v1/agent/commands",
                 params={"chair_id": world.chairs[i], "wait": round(wait, 1)})
    rotor.close()


def technician(j: int, world: World, bases: list[str], rec: Recorder, stop: threading.Event, think: float) -> None:
    rotor = Rotor(bases, world.tokens[f"tech-{j}"])
    n = j
    while not stop.is_set():
        n += 1
        lane, pid = world.lane_chairs[n % len(world.lane_chairs)], world.patients[n % len(world.patients)]
        live = world.sessions[n % len(world.sessions)]
        rec.call("tech: chair day", rotor().get, f"/api/v1/chairs/{lane}/schedule",
                 params={"date": world.days[0].isoformat()})
        rec.call("tech: live session record", rotor().get, f"/api/v1/sessions/{live}")
        rec.call("tech: patient list", rotor().get, "/api/v1/patients", params={"limit": 50})
        body = {"course_id": world.courses[n % len(world.courses)], "term": "headache", "grade": 1,
                "onset_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}
        rec.call("tech: log adverse event", rotor().post, f"/api/v1/patients/{pid}/adverse-events", json=body,
                 expect=201)
        rec.call("tech: book a session", rotor().post, "/api/v1/bookings", json=world.next_booking(), expect=201)
        stop.wait(think)
    rotor.close()


def psychiatrist(j: int, world: World, bases: list[str], rec: Recorder, stop: threading.Event, think: float,
                 of: int) -> None:
    rotor = Rotor(bases, world.tokens[f"psych-{j}"])
    mine = world.adverse_events[j::of]  # amend only events no other psychiatrist amends
    n = 0
    while not stop.is_set():
        n += 1
        k = (j + n * of) % len(world.patients)
        rec.call("psych: course page (HTML)", rotor().get, f"/courses/{world.courses[k]}")
        rec.call("psych: patient's adverse events", rotor().get, f"/api/v1/patients/{world.patients[k]}/adverse-events")
        rec.call("psych: amend adverse event", rotor().patch, f"/api/v1/adverse-events/{mine[n % len(mine)]}",
                 json={"reason": "clarified at follow-up", "description": f"follow-up note {n}"})
        rec.call("psych: review queue", rotor().get, "/api/v1/review-flags")
        stop.wait(think)
    rotor.close()


def run_one(key: str, server: str | None, args: argparse.Namespace) -> tuple[str, Recorder, float]:
    """Build the clinic on a fresh database, serve it, load it for the duration; returns (label, results, s)."""
    label, _, processes = CONFIGS[key]
    with tempfile.TemporaryDirectory(prefix="tmsops-load-") as keys, fresh_database(server) as url:
        # Production refuses to start without secrets of its own and an existing checkpoint signing key.
        signing_key = Path(keys) / "audit-signing-key.pem"
        write_signing_key(signing_key)
        env = {"TMS_ENVIRONMENT": "production", "TMS_SECRET_KEY": secrets.token_urlsafe(48),
               "TMS_AUDIT_KEY": secrets.token_urlsafe(48), "TMS_AUDIT_SIGNING_KEY_FILE": str(signing_key)}
        return _load(label, url, processes, env, args)


def _load(label: str, url: str, processes: int, env: dict[str, str],
          args: argparse.Namespace) -> tuple[str, Recorder, float]:
    with serving(url, processes, env) as bases:
        world = build(url, bases[0], chairs=args.chairs, technicians=args.technicians,
                      psychiatrists=args.psychiatrists, patients=args.patients)
        rec, stop = Recorder(), threading.Event()
        until = time.monotonic() + args.duration
        threads = [threading.Thread(target=chair, args=(i, world, bases, rec, stop, args.speed))
                   for i in range(args.chairs)]
        threads += [threading.Thread(target=long_poll, args=(i, world, bases, rec, stop, until))
                    for i in range(args.chairs)]
        threads += [threading.Thread(target=technician, args=(j, world, bases, rec, stop, args.think))
                    for j in range(args.technicians)]
        threads += [threading.Thread(target=psychiatrist, args=(j, world, bases, rec, stop, args.think,
                                                                 args.psychiatrists))
                    for j in range(args.psychiatrists)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        stop.wait(args.duration)
        stop.set()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
    print(f"  {label}: done ({sum(map(len, rec.latencies.values()))} requests, {sum(rec.errors.values())} errors)",
          file=sys.stderr)
    return label, rec, seconds


def pct(data: list[float], q: float) -> float:
    data = sorted(data)
    return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


def print_table(runs: list[tuple[str, Recorder, float]], args: argparse.Namespace) -> None:
    print(f"\nbench.load: {args.chairs} chairs at {args.speed:g}x real time, {args.technicians} technicians, "
          f"{args.psychiatrists} psychiatrists (think {args.think:g} s), {args.duration:g} s per configuration, "
          f"{os.cpu_count()} CPU cores shared by the service, the database and the load generator")
    header = (f"{'configuration':<24} {'operation':<34} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'errors':>6}")
    print(header)
    print("-" * len(header))
    for label, rec, seconds in runs:
        for op in sorted(rec.latencies):
            lat = rec.latencies[op]
            print(f"{label:<24} {op:<34} {len(lat):>8} {len(lat) / seconds:>7.1f} {pct(lat, 0.5):>8.1f} "
                  f"{pct(lat, 0.99):>8.1f} {rec.errors[op]:>6}")
        staff = [x for op, lat in rec.latencies.items() if not op.startswith("agent") for x in lat]
        print(f"{label:<24} {'all staff operations':<34} {len(staff):>8} {len(staff) / seconds:>7.1f} "
              f"{pct(staff, 0.5):>8.1f} {pct(staff, 0.99):>8.1f} "
              f"{sum(n for op, n in rec.errors.items() if not op.startswith('agent')):>6}")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=30, help="seconds of load per configuration")
    parser.add_argument("--chairs", type=int, default=20)
    parser.add_argument("--speed", type=float, default=1.0, help="chairs deliver this many times faster than real")
    parser.add_argument("--technicians", type=int, default=4)
    parser.add_argument("--psychiatrists", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.0, help="staff pause between rounds, seconds")
    parser.add_argument("--patients", type=int, default=80, help="patients with a course (bookings spread over them)")
    parser.add_argument("--configs", default="pg1,pg2,sqlite", help="which of pg1, pg2, sqlite to run, in order")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server (a user allowed to create databases); each PostgreSQL "
                             "configuration gets a fresh database there, dropped after")
    args = parser.parse_args()
    keys = [k.strip() for k in args.configs.split(",") if k.strip()]
    unknown = [k for k in keys if k not in CONFIGS]
    if unknown:
        parser.error(f"--configs: unknown {unknown}; choose from {sorted(CONFIGS)}")
    if args.database_url is None and any(CONFIGS[k][1] for k in keys):
        print("no --database-url: the PostgreSQL configurations are skipped", file=sys.stderr)
        keys = [k for k in keys if not CONFIGS[k][1]]
    runs = [run_one(k, args.database_url if CONFIGS[k][1] else None, args) for k in keys]
    print_table(runs, args)
    errors = [(label, s) for label, rec, _ in runs for s in rec.samples]
    if any(sum(rec.errors.values()) for _, rec, _ in runs):
        print("errors (must be 0); first ones:", *(f"  {label}: {s}" for label, s in errors), sep="\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
