"""`python -m bench.api`: GET /api/v1/patients/{id} beside a bare JSON endpoint of the same app.

Both run against one `tmsops serve` process in the same run, so the ratio shows what auth, the
database read and the audit row (every patient read is audited) cost over FastAPI itself.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import httpx

from bench.harness import load, print_table, served

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to run on: a fresh database is created there and dropped after "
                             "(default: a temporary SQLite file)")
    args = parser.parse_args()
    with served(args.database_url) as (base, db_url):
        token, pid = _setup(base, db_url)

        def client() -> httpx.Client:
            return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})

        results = [
            load("GET /api/v1/health (bare JSON)", lambda c: c.get("/api/v1/health"),
                 requests=args.requests, concurrency=args.concurrency, client_factory=client),
            load("GET /api/v1/patients/{id} (auth+read+audit)", lambda c: c.get(f"/api/v1/patients/{pid}"),
                 requests=args.requests, concurrency=args.concurrency, client_factory=client),
        ]
    label = "SQLite" if db_url.startswith("sqlite") else "PostgreSQL"
    print_table(f"bench.api: one uvicorn process, {label}, {args.concurrency} client threads", results)
    bare, real = results
    print(f"\npatient read costs {bare.rate / real.rate:.1f}x the bare endpoint's time per request "
          f"(p50 {real.pct(0.5):.2f} ms vs {bare.pct(0.5):.2f} ms)")


if __name__ == "__main__":
    main()
