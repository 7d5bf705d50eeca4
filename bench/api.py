"""`python -m bench.api`: GET /api/v1/patients/{id} beside the app's bare /api/v1/health, driven by wrk.

Every figure in a table comes from the same run: the bare endpoint at the same connection count is the
comparison, so the ratio shows what auth, the database read and the audit row (every patient read is audited)
cost over the framework and server. SQLite always; PostgreSQL with ``--database-url`` (a server: a fresh
database is created there and dropped after), with one and with two `tmsops serve` processes (the two-process
rate is two wrk runs at once, one per process, as a reverse proxy would spread them).
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys

import httpx

from bench import wrk
from bench.harness import SERVER_PIDS, fresh_database, serving
from bench.threads_cpu import ThreadsCpu, measure

PASSWORD = "bench password 123"


def _setup(base: str, db_url: str) -> tuple[str, int]:
    env = os.environ | {"TMS_DATABASE_URL": db_url}
    subprocess.run([sys.executable, "-m", "service.cli", "create-user", "--username", "bench-tech",
                    "--role", "technician", "--clinic", "Bench Clinic"],
                   input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
    token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "bench-tech", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    patient = httpx.post(f"{base}/api/v1/patients", headers=headers, json={
        "mrn": "B-1", "family_name": "Bench", "given_name": "Pat", "date_of_birth": "1970-01-01",
        "sex": "female", "primary_diagnosis": "F33.2"}).json()
    return token["access_token"], int(patient["id"])


def _one_process(db_url: str, seconds: float) -> tuple[list[wrk.WrkResult], list[ThreadsCpu]]:
    """Each row's wrk result, and the server's threads' CPU during it."""
    with serving(db_url, 1) as (base,):
        token, pid = _setup(base, db_url)
        auth = {"Authorization": f"Bearer {token}"}
        rows, cpu = [], []
        for connections in (8, 25, 50):
            for name, url in ((f"GET /api/v1/health, {connections} connections", f"{base}/api/v1/health"),
                              (f"GET /api/v1/patients/{{id}}, {connections} connections",
                               f"{base}/api/v1/patients/{pid}")):
                row, used = measure(SERVER_PIDS[base], functools.partial(
                    wrk.run, name, url, connections=connections, seconds=seconds, headers=auth))
                rows.append(row)
                cpu.append(used)
        return rows, cpu


def _print_cpu(rows: list[wrk.WrkResult], cpu: list[ThreadsCpu]) -> None:
    """The server's threads during each row: the event loop near 100 % is one process's limit. The child process
    (the leader's audit sealer) runs on the same cores."""
    print(f"\n{'server threads, % of a core':<52} {'loop':>6} {'others':>7} {'sealer':>7} {'loop µs/request':>16}")
    for row, used in zip(rows, cpu, strict=True):
        print(f"{row.name:<52} {used.loop:>6.0f} {used.others:>7.0f} {used.children:>7.0f} "
              f"{used.loop / 100 / row.rate * 1e6:>16.0f}")


def _two_processes(server_url: str, seconds: float) -> wrk.WrkResult:
    with fresh_database(server_url) as db_url, serving(db_url, 2) as bases:
        token, pid = _setup(bases[0], db_url)
        auth = {"Authorization": f"Bearer {token}"}
        runs = [wrk.start(f"{base}/api/v1/patients/{pid}", connections=25, seconds=seconds, headers=auth)
                for base in bases]
        results = [wrk.parse("", run.communicate()[0]) for run in runs]
        return wrk.combine("GET /api/v1/patients/{id}, 2 processes x 25 connections", results)


def _summary(label: str, rows: list[wrk.WrkResult]) -> None:
    by_name = {r.name: r for r in rows}
    bare, read = by_name["GET /api/v1/health, 50 connections"], by_name["GET /api/v1/patients/{id}, 50 connections"]
    at8 = by_name["GET /api/v1/patients/{id}, 8 connections"]
    print(f"{label}: patient read / bare at 50 connections = {read.rate / bare.rate:.2f} (target >= 0.40); "
          f"patient read p99 at 8 connections = {at8.p99_ms:.1f} ms (target < 25 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to run on as well: a fresh database is created there and dropped "
                             "after (SQLite always runs, in a temporary file)")
    args = parser.parse_args()
    wrk.require_wrk()
    with fresh_database(None) as sqlite_url:
        sqlite_rows, sqlite_cpu = _one_process(sqlite_url, args.seconds)
    wrk.print_table("bench.api: one process, SQLite", sqlite_rows)
    _print_cpu(sqlite_rows, sqlite_cpu)
    _summary("SQLite", sqlite_rows)
    if args.database_url is None:
        print("\nPostgreSQL not run: pass --database-url postgresql://user@host:port/db")
        return
    with fresh_database(args.database_url) as pg_url:
        pg_rows, pg_cpu = _one_process(pg_url, args.seconds)
    two = _two_processes(args.database_url, args.seconds)
    wrk.print_table("bench.api: PostgreSQL, one process, then two", [*pg_rows, two])
    _print_cpu(pg_rows, pg_cpu)
    _summary("PostgreSQL", pg_rows)
    by_name = {r.name: r for r in pg_rows}
    best_one = max(by_name[f"GET /api/v1/patients/{{id}}, {c} connections"].rate for c in (25, 50))
    print(f"PostgreSQL: two processes / the better of one process at 25 or 50 connections = "
          f"{two.rate / best_one:.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
