"""The database's last word on double booking (exclusion constraints on PostgreSQL, index-probing triggers on
SQLite), checked against brute force, and what it means for a plan that could not see a booking."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.bookings import repository
from service.core.db import session_scope
from service.models.bookings import RELEASED, RESOURCES, Booking
from tests.builders.clinic import add_technician, error_field, ok, ready_clinic
from tests.conftest import T0, Tenant

DAY = T0.replace(hour=13)  # 08:00 in Boston on the frozen Monday


def _held(row: dict[str, object], other: dict[str, object]) -> list[str]:
    """The resources two holding bookings share while they overlap."""
    if row["status"] in RELEASED or other["status"] in RELEASED:
        return []
    if not (row["start_at"] < other["end_at"] and other["start_at"] < row["end_at"]):  # type: ignore[operator]
        return []
    return [r for r in RESOURCES if row[f"{r}_id"] == other[f"{r}_id"]]


def _try(session: Session, write: Booking, **changes: object) -> str | None:
    """Insert, or change, a booking in a savepoint; the resource the database names when it refuses."""
    try:
        with session.begin_nested():
            for name, value in changes.items():
                setattr(write, name, value)
            session.add(write)
            session.flush()
    except IntegrityError as exc:
        return next(r for r in RESOURCES if f"ex_booking_{r}" in str(exc.orig))
    return None


def test_database_refuses_exactly_the_overlaps_brute_force_finds(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    chairs = [(clinic.chair_id, clinic.device_id), clinic.add_chair("Chair B")]
    technicians = [clinic.technician_id, add_technician(clinic), add_technician(clinic)]
    courses = [clinic.course() for _ in range(3)]
    rng = random.Random(16)
    accepted: dict[int, dict[str, object]] = {}
    refusals: list[str] = []
    with session_scope(tenant.app.state.engine) as s:
        for n in range(80):
            chair, device = rng.choice(chairs)
            course = rng.choice(courses)
            start = DAY + timedelta(minutes=rng.randrange(0, 600))
            row = {"clinic_id": tenant.clinic_id, "course_id": course["id"], "patient_id": course["patient_id"],
                   "chair_id": chair, "device_id": device, "technician_id": rng.choice(technicians),
                   "start_at": start, "end_at": start + timedelta(minutes=rng.randrange(5, 120)),
                   "status": "cancelled" if rng.random() < 0.15 else "booked", "phase_name": "acute",
                   "phase_kind": "acute", "sequence": n + 1, "created_at": T0, "updated_at": T0}
            clashes = {r for other in accepted.values() for r in _held(row, other)}
            refused = _try(s, Booking(**row))
            assert (refused is not None) == bool(clashes), (n, row, clashes)
            assert refused is None or refused in clashes
            refusals += [refused] if refused else []
            if refused is None:
                found = s.exec(select(Booking).where(Booking.sequence == n + 1,
                                                     Booking.clinic_id == tenant.clinic_id)).one()
                accepted[found.id or 0] = row
        for booking_id in rng.sample(sorted(accepted), 25):  # moving a booking is checked the same way
            booking = s.get(Booking, booking_id)
            assert booking is not None
            start = DAY + timedelta(minutes=rng.randrange(0, 600))
            moved = accepted[booking_id] | {"start_at": start, "end_at": start + timedelta(minutes=45)}
            clashes = {r for other_id, other in accepted.items() if other_id != booking_id for r in _held(moved, other)}
            refused = _try(s, booking, start_at=start, end_at=start + timedelta(minutes=45))
            assert (refused is not None) == bool(clashes), (booking_id, moved, clashes)
            assert refused is None or refused in clashes
            refusals += [refused] if refused else []
            if refused is None:
                accepted[booking_id] = moved
    assert len(accepted) > 20 and len(set(refusals)) >= 3  # both answers, from several resources' checks


def test_a_booking_the_planner_could_not_see_still_cannot_be_double_booked(tenant: Tenant) -> None:
    """A booking longer than any the service makes (written around the service) starts long before the hours the
    plan reads: the plan lands on it, and the database's refusal becomes the usual 409; nothing is booked."""
    clinic = ready_clinic(tenant)
    other = clinic.course()
    with session_scope(tenant.app.state.engine) as s:
        s.add(Booking(clinic_id=tenant.clinic_id, course_id=other["id"], patient_id=other["patient_id"],
                      chair_id=clinic.chair_id, device_id=clinic.device_id, technician_id=clinic.technician_id,
                      start_at=DAY, end_at=DAY + timedelta(hours=10), phase_name="acute", phase_kind="acute",
                      sequence=1, created_at=T0, updated_at=T0))
    course = clinic.course(window_start="14:00", window_end="17:00")
    r = clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "double_booking"
    assert error_field(r) in ("chair_id", "device_id", "technician_id")
    with session_scope(tenant.app.state.engine) as s:
        assert s.exec(select(Booking).where(col(Booking.course_id) == course["id"])).all() == []
    listed = ok(clinic.tech.get(f"/api/v1/bookings?course_id={course['id']}"))
    assert listed == []


def test_the_planner_reads_booked_times_rounded_outward_to_whole_seconds(tenant: Tenant) -> None:
    """The planner's loader reads times as epoch seconds computed by the database: a fraction of a second makes a
    booking look longer, never shorter, and a whole second stays exactly that, so back-to-back slots still touch."""
    clinic = ready_clinic(tenant)
    course, other = clinic.course(), clinic.course()
    late = DAY + timedelta(seconds=0.4)
    with session_scope(tenant.app.state.engine) as s:
        for n, (start, end) in enumerate([(late, late + timedelta(minutes=45, seconds=0.2)),
                                          (DAY + timedelta(hours=2), DAY + timedelta(hours=3))]):
            s.add(Booking(clinic_id=tenant.clinic_id, course_id=other["id"], patient_id=other["patient_id"],
                          chair_id=clinic.chair_id, device_id=clinic.device_id, technician_id=clinic.technician_id,
                          start_at=start, end_at=end, phase_name="acute", phase_kind="acute", sequence=n + 1,
                          created_at=T0, updated_at=T0))
    with session_scope(tenant.app.state.engine) as s:
        rows = repository.holding_over(s, tenant.clinic_id, [(DAY - timedelta(hours=1), DAY + timedelta(hours=4))],
                                       timedelta(hours=2), {"chair": [clinic.chair_id]},
                                       exclude_course=course["id"])
    whole = int(DAY.timestamp())
    assert sorted((start, end) for start, end, *_ in rows) == [(whole, whole + 45 * 60 + 1),
                                                                (whole + 7200, whole + 3 * 3600)]
    assert {(c, d, t, p) for _, _, c, d, t, p, _ in rows} == {
        (str(clinic.chair_id), str(clinic.device_id), str(clinic.technician_id), str(other["patient_id"]))}


def test_the_planner_reads_the_same_bookings_over_many_spans_and_ids_come_back_by_patient_and_start(
        tenant: Tenant) -> None:
    """A plan asks about dozens of spans at once (PostgreSQL gets them as arrays, SQLite as one term each) and
    books its sessions in one insert (PostgreSQL: one array per column). Over 60 days, each holding one booking
    inside its span and one outside it, the loader returns exactly the inside ones (once each, whatever the
    backend repeats), and the insert returns each new row's id under its (patient, start), NULL columns included."""
    clinic = ready_clinic(tenant)
    course, other = clinic.course(), clinic.course()
    hour = timedelta(hours=1)
    rows = []
    for n in range(60):
        day = DAY + timedelta(days=n)
        for start in (day, day + 6 * hour):  # the second starts after the span ends
            rows.append({"clinic_id": tenant.clinic_id, "course_id": other["id"], "patient_id": other["patient_id"],
                         "chair_id": clinic.chair_id, "device_id": clinic.device_id,
                         "technician_id": clinic.technician_id,
                         "authorization_id": None, "start_at": start, "end_at": start + timedelta(minutes=45),
                         "status": "booked", "status_reason": "planned" if n % 2 else None, "phase_name": "acute",
                         "phase_kind": "acute", "sequence": 2 * n + (start > day) + 1, "version": 1,
                         "created_by": None, "created_at": T0, "updated_at": T0})
    with session_scope(tenant.app.state.engine) as s:
        ids = repository.insert_rows(s, rows)
    with session_scope(tenant.app.state.engine) as s:
        stored = {(b.patient_id, b.start_at): b for b in s.exec(select(Booking).where(
            col(Booking.course_id) == other["id"])).all()}
        spans = [(DAY + timedelta(days=n) - hour, DAY + timedelta(days=n) + 2 * hour) for n in range(60)]
        held = repository.holding_over(s, tenant.clinic_id, spans, timedelta(hours=2), {"chair": [clinic.chair_id]},
                                       exclude_course=course["id"])
    assert set(ids) == set(stored) and len(ids) == 120
    assert all(stored[key].id == booking_id for key, booking_id in ids.items())
    assert {b.status_reason for b in stored.values()} == {"planned", None}
    inside = {str(b.id) for b in stored.values() if b.start_at.hour == DAY.hour}
    assert {row[-1] for row in held} == inside and len(inside) == 60
