"""`python -m bench.read_path`: where one audited patient read spends its time, step by step, in one thread.

`bench.api` measures the whole request through HTTP; this takes its database steps apart on a fresh SQLite file
(or a fresh PostgreSQL database with ``--database-url``), each beside the same statement through the bare
driver, so the table shows what the service's layers cost over the database itself. Single-threaded, no
server: the figures are the floor of a request's CPU, before the web stack, the thread pool and contention.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import text

import service.models  # noqa: F401  (every table, so foreign keys resolve)
from bench.harness import fresh_database
from config.settings import get_settings
from service.audit import service as audit
from service.audit.service import Actor
from service.auth.service import authenticate
from service.auth.tokens import new_token, token_digest
from service.core.db import is_sqlite, make_engine, session_scope
from service.core.migrate import upgrade
from service.core.read_scope import read_scope
from service.models.auth import AuthSession
from service.models.clinics import Clinic
from service.models.patients import Patient
from service.models.users import User
from service.patients import repository
from service.patients import service as patients

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _time(step: Callable[[], object], runs: int) -> tuple[float, float]:
    """Mean of ``runs`` calls after a warm-up: (wall µs, CPU µs) per call."""
    for _ in range(min(50, runs)):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        step()
    return (time.perf_counter() - wall) * 1e6 / runs, (time.process_time() - cpu) * 1e6 / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a fresh database is made there)")
    args = parser.parse_args()
    with fresh_database(args.database_url) as url:
        upgrade(url)
        engine = make_engine(url)
        settings = get_settings()
        token = new_token()
        with session_scope(engine) as s:
            clinic = Clinic(name="Read path", created_at=NOW)
            s.add(clinic)
            s.flush()
            cid = clinic.id or 0
            user = User(clinic_id=cid, username="reader", display_name="Reader", role="technician",
                        password_hash="x", created_at=NOW)
            patient = Patient(clinic_id=cid, mrn="R-1", family_name="Read", given_name="Pat",
                              date_of_birth=date(1970, 1, 1), sex="female", primary_diagnosis="F33.2",
                              created_at=NOW, updated_at=NOW)
            s.add_all([user, patient])
            s.flush()
            s.add(AuthSession(token_digest=token_digest(settings.secret_key, token), user_id=user.id or 0,
                              kind="api", created_at=NOW, last_seen_at=NOW))
            uid, pid = user.id or 0, patient.id or 0
        actor = Actor(uid, "reader", cid)
        raw = engine.raw_connection()  # the bare driver: the same statements without SQLAlchemy or the ORM
        cursor = raw.cursor()
        mark = "?" if is_sqlite(engine) else "%s"
        select_patient = f"SELECT * FROM patient WHERE id = {mark} AND clinic_id = {mark}"
        insert_audit = (f"INSERT INTO audit_event (at, action, entity, entity_id, patient_id, username, digest) "
                        f"VALUES ({mark}, 'read', 'patient', {mark}, {mark}, 'reader', 'x')")

        def driver_select() -> None:
            cursor.execute(select_patient, (pid, cid))
            cursor.fetchall()
            raw.commit()

        def driver_insert_commit() -> None:
            if is_sqlite(engine):
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(insert_audit, (NOW.isoformat(), str(pid), pid))
            raw.commit()

        def empty_read_scope() -> None:
            with read_scope(engine):
                pass

        def sign_in() -> None:
            with read_scope(engine) as s:
                authenticate(s, settings, token, now=NOW, via_cookie=False, client=None)

        def orm_patient() -> None:
            with read_scope(engine) as s:
                repository.get(s, cid, pid)

        def core_select() -> None:
            with engine.connect() as c:
                c.execute(text("SELECT * FROM patient WHERE id = :i AND clinic_id = :c"), {"i": pid, "c": cid}).all()

        def audit_row_commit() -> None:
            with read_scope(engine) as s:
                audit.record(s, actor, at=NOW, action="read", entity="patient", entity_id=pid, patient_id=pid)

        def whole_read() -> None:
            with read_scope(engine) as s:
                principal = authenticate(s, settings, token, now=NOW, via_cookie=False, client=None)
                patients.read(s, principal, pid, NOW)

        steps: list[tuple[str, Callable[[], object], int]] = [
            ("driver: select the patient (autocommit read)", driver_select, args.runs),
            ("driver: insert an audit row and commit", driver_insert_commit, args.runs // 4),
            ("SQLAlchemy Core: connect, select the patient", core_select, args.runs),
            ("read scope: begin and end, nothing in it", empty_read_scope, args.runs),
            ("read scope: sign-in lookup (Core select)", sign_in, args.runs),
            ("read scope: the patient through the ORM", orm_patient, args.runs),
            ("read scope + its audit row, committed", audit_row_commit, args.runs // 4),
            ("the whole read: sign-in, patient, audit row", whole_read, args.runs // 4),
        ]
        label = "SQLite" if is_sqlite(engine) else "PostgreSQL"
        print(f"bench.read_path: one thread, {label}")
        print(f"{'step':58s} {'calls':>6s} {'wall µs':>9s} {'CPU µs':>9s}")
        print("-" * 85)
        for name, step, runs in steps:
            wall, cpu = _time(step, runs)
            print(f"{name:58s} {runs:6d} {wall:9.1f} {cpu:9.1f}")
        cursor.close()
        raw.close()
        engine.dispose()


if __name__ == "__main__":
    main()
