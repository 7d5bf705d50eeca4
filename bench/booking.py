"""DB booking benchmark: plan AND book a new 36-session course into a clinic with 10 chairs and a year of
existing bookings, through the service (planner + overlap checks + audit + commit), median of repeated runs.

Run: ``.venv/bin/python -m bench.booking [--runs N] [--fill F] [--database-url postgresql://...]`` (default: a
fresh SQLite file; on a PostgreSQL server, a fresh database created beside the one named and dropped after).
Prints a table with the bench process's CPU time beside the wall time (on a shared machine the wall time also
counts waiting for a core); asserts nothing on time. The pure-planner part is ``bench.planning``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time as clock
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from bench.planning import Row, print_table
from service.audit.service import SYSTEM
from service.auth.principal import Principal
from service.bookings import planning
from service.clinics import service as clinics
from service.core.db import is_sqlite, make_engine, normalize_url, session_scope
from service.core.gc_policy import freeze_startup_objects
from service.core.migrate import upgrade
from service.courses.schemas import CourseCreate, EligibilityException
from service.courses.service import order
from service.models.bookings import Booking
from service.models.calendar import ClinicSchedule, TechnicianShift
from service.models.chairs import Chair, Device
from service.models.courses import Course
from service.models.patients import Patient
from service.models.users import User

TODAY = date(2025, 11, 17)  # a Monday; the year ahead crosses the US winter holidays
NOW = datetime(2025, 11, 17, 11, 0, tzinfo=UTC)  # 06:00 in Boston, before opening
OPEN, CLOSE, SLOT = time(7), time(19), 45
CHAIRS, TECHNICIANS, PATIENTS = 10, 12, 400


def _clinic(session: Session) -> tuple[int, list[int], list[int], list[int], int]:
    """Clinic, 10 Rapid² chairs, 12 technicians on early/late shifts, a psychiatrist; returns their ids."""
    clinic = clinics.get_or_create(session, SYSTEM, f"Bench {uuid.uuid4().hex[:6]}", NOW,
                                   timezone="America/New_York", country="US", subdivision="MA")
    cid = clinic.id or 0
    session.add(ClinicSchedule(clinic_id=cid, hours={str(d): [f"{OPEN:%H:%M}", f"{CLOSE:%H:%M}"] for d in range(5)},
                               setup_buffer_minutes=7, open_on_holidays=[], updated_at=NOW))
    chairs, devices = [], []
    for n in range(CHAIRS):
        device = Device(clinic_id=cid, model="magstim-rapid2", serial=f"B-{n}", coil_model="D70", created_at=NOW)
        session.add(device)
        session.flush()
        chair = Chair(clinic_id=cid, name=f"Chair {n}", device_id=device.id, created_at=NOW)
        session.add(chair)
        session.flush()
        chairs.append(chair.id or 0)
        devices.append(device.id or 0)
    techs = []
    for n in range(TECHNICIANS):
        user = User(clinic_id=cid, username=f"bt-{uuid.uuid4().hex[:8]}", display_name=f"Tech {n}",
                    role="technician", password_hash="x", created_at=NOW)
        session.add(user)
        session.flush()
        techs.append(user.id or 0)
        start, end = (time(7), time(15)) if n % 2 else (time(11), time(19))
        session.add_all([TechnicianShift(clinic_id=cid, user_id=user.id or 0, weekday=d, start=start, end=end)
                         for d in range(5)])
    psych = User(clinic_id=cid, username=f"bp-{uuid.uuid4().hex[:8]}", display_name="Dr Bench", role="psychiatrist",
                 password_hash="x", created_at=NOW)
    session.add(psych)
    session.flush()
    return cid, chairs, devices, techs, psych.id or 0


def _patient(session: Session, cid: int, n: int) -> int:
    patient = Patient(clinic_id=cid, mrn=f"B{n}-{uuid.uuid4().hex[:6]}", family_name="Bench", given_name=f"P{n}",
                      date_of_birth=date(1970, 1, 1), sex="unknown", primary_diagnosis="F33.2", created_at=NOW,
                      updated_at=NOW)
    session.add(patient)
    session.flush()
    return patient.id or 0


def _year(engine: Engine, fill: float, ids: tuple[int, list[int], list[int], list[int], int]) -> int:
    """A year of existing bookings on each chair's 45-min grid (every resource free of overlaps)."""
    import random

    from schedules.calendar import ClinicCalendar, weekday_hours

    cid, chairs, devices, techs, psych = ids
    rng = random.Random(1)
    cal = ClinicCalendar("America/New_York", weekday_hours(OPEN, CLOSE), "US", "MA")
    with session_scope(engine) as session:
        patients = [_patient(session, cid, n) for n in range(PATIENTS)]
        courses = []
        for pid in patients:  # one long-running course per existing patient, to hang their bookings on
            course = Course(clinic_id=cid, patient_id=pid, protocol_id="hf10_3000_iti26", template_id="standard-36",
                            status="active", intensity_pct_mt=120, ordered_by=psych, ordered_at=NOW, created_at=NOW,
                            updated_at=NOW)
            session.add(course)
            session.flush()
            courses.append(course.id or 0)
        rows = []
        for offset in range(365):
            day = TODAY + timedelta(days=offset)
            if not cal.is_open(day):
                continue
            opening = cal.to_utc(day, OPEN)
            for slot in range(int((CLOSE.hour - OPEN.hour) * 60 // SLOT)):
                start = opening + timedelta(minutes=slot * SLOT)
                for c in range(CHAIRS):
                    if rng.random() < fill:
                        p = (c + CHAIRS * slot + 7 * offset) % PATIENTS
                        rows.append({"clinic_id": cid, "course_id": courses[p], "patient_id": patients[p],
                                     "chair_id": chairs[c], "device_id": devices[c],
                                     "technician_id": techs[(c + slot) % TECHNICIANS], "start_at": start,
                                     "end_at": start + timedelta(minutes=SLOT), "status": "booked",
                                     "phase_name": "acute", "phase_kind": "acute", "sequence": 1, "version": 1,
                                     "created_at": NOW, "updated_at": NOW})
        for n in range(0, len(rows), 5000):
            session.execute(insert(Booking), rows[n:n + 5000])
    if not is_sqlite(engine):
        # a year of bookings arrives over a year, and autovacuum analyzes the table as it grows; loaded in one
        # go, PostgreSQL would plan the first runs without statistics and the bench would measure that
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE booking")
    return len(rows)


def _one_run(engine: Engine, cid: int, psych: int, n: int) -> tuple[float, float, planning.Outcome]:
    who = Principal(psych, "bench", "Dr Bench", "psychiatrist", cid, 0, False)
    with session_scope(engine) as session:
        pid = _patient(session, cid, 10_000 + n)
        self_pay = EligibilityException(basis="self_pay", reason="self-pay patient of the booking bench")
        course = order(session, who, CourseCreate(patient_id=pid, protocol_id="hf10_3000_iti26",
                                                  intensity_pct_mt=120, window_start=time(9), window_end=time(13),
                                                  eligibility_exception=self_pay), NOW)
        course_id = course.id or 0
    began, cpu = clock.perf_counter(), clock.process_time()
    with session_scope(engine) as session:
        out = planning.plan_and_book(session, who, course_id, TODAY, False, NOW)
    return (clock.perf_counter() - began) * 1000, (clock.process_time() - cpu) * 1000, out


def run(url: str | None, runs: int, fill: float) -> list[Row]:
    """Build the clinic, then time plan-and-book of new courses."""
    with tempfile.TemporaryDirectory() as tmp, _database(url, Path(tmp)) as url:
        upgrade(url)
        engine = make_engine(url)
        with session_scope(engine) as session:
            ids = _clinic(session)
        existing = _year(engine, fill, ids)
        freeze_startup_objects()  # this process stands for a server, which freezes what it built before serving
        times, cpu, placed, unplaced, why = [], [], 0, 0, Counter[str]()
        for n in range(runs):
            ms, cpu_ms, out = _one_run(engine, ids[0], ids[4], n)
            times.append(ms)
            cpu.append(cpu_ms)
            placed, unplaced = len(out.booked), len(out.unplaced)
            why.update(code for miss in out.unplaced for code in miss.codes)
        engine.dispose()
    backend = url.split(":", 1)[0]
    label = f"plan+book 36 sessions, {CHAIRS} chairs, {existing} bookings ({backend})"
    return [Row(label, statistics.median(times), runs, 36, placed, unplaced,
                ", ".join(f"{c} {k}" for c, k in why.most_common(3)), statistics.median(cpu))]


@contextmanager
def _database(url: str | None, tmp: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database on the PostgreSQL server of ``url`` (dropped afterwards)."""
    if url is None or is_sqlite(url):
        yield url or f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"tmsops_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_url(url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--fill", type=float, default=0.7, help="share of chair slots already booked")
    parser.add_argument("--database-url", "--url", dest="url", default=None,
                        help="database URL (default: a fresh SQLite file; PostgreSQL: a fresh database on that server)")
    args = parser.parse_args(argv)
    print_table(run(args.url, args.runs, args.fill))
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
