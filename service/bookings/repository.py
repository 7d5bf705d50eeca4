"""Every query for bookings (scoped to a clinic where an id comes from a caller)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, String, and_, bindparam, cast, extract, func, insert, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from service.models.bookings import RELEASED, Booking, BookingStatus
from service.models.courses import Course
from service.models.patients import Patient

HeldRow = tuple[int, int, str, str, str, str, str]
# resource kind ("chair", "device", "technician", "patient") -> the ids whose bookings planning must see
Resources = Mapping[str, Sequence[int]]


def get(session: Session, clinic_id: int, booking_id: int) -> Booking | None:
    return session.exec(select(Booking).where(Booking.id == booking_id, Booking.clinic_id == clinic_id)).first()


def overlapping(session: Session, resource: str, resource_id: int, start: datetime, end: datetime) -> Booking | None:
    """A booking holding this resource over part of [start, end), if any."""
    column = getattr(Booking, f"{resource}_id")
    return session.exec(
        select(Booking).where(column == resource_id, col(Booking.status).not_in(RELEASED),
                              col(Booking.start_at) < end, col(Booking.end_at) > start)
        .order_by(col(Booking.start_at)).limit(1)
    ).first()


def holding_over(session: Session, clinic_id: int, spans: Sequence[tuple[datetime, datetime]], longest: timedelta,
                 resources: Resources, *, exclude_course: int | None = None) -> list[HeldRow]:
    """(start, end, chair, device, technician, patient, id) of every booking of the clinic that holds one of these
    resources at some point of one of the spans: the times as whole UTC epoch seconds, start rounded down and end
    up, the ids as text, which is the form the planner's index keeps. No booking holds its resources longer than
    ``longest``, so each span is an index range on the start time."""
    kinds = tuple(kind for kind, ids in resources.items() if ids)
    if not spans or not kinds:
        return []
    postgres = session.connection().dialect.name == "postgresql"
    query = _holding_query(len(spans), kinds, postgres, exclude_course is not None)
    params: dict[str, Any] = {"clinic": clinic_id, "course": exclude_course}
    params.update((kind, list(resources[kind])) for kind in kinds)
    for n, (start, end) in enumerate(spans):
        params[f"from{n}"], params[f"start{n}"], params[f"end{n}"] = start - longest, start, end
    return [row._tuple() for row in session.connection().execute(query, params).all()]


@lru_cache(maxsize=64)
def _holding_query(spans: int, kinds: tuple[str, ...], postgres: bool, exclude: bool) -> Select[Any]:
    """``holding_over``'s statement for this many spans, built once: a plan asks it with dozens of spans, and
    building that many terms costs more than the database takes to answer them."""
    # the clinic inside each term lets SQLite, too, search the (clinic, start) index once per span
    near = [and_(col(Booking.clinic_id) == bindparam("clinic"), col(Booking.start_at) > bindparam(f"from{n}"),
                 col(Booking.start_at) < bindparam(f"end{n}"), col(Booking.end_at) > bindparam(f"start{n}"))
            for n in range(spans)]
    held = [col(getattr(Booking, f"{kind}_id")).in_(bindparam(kind, expanding=True)) for kind in kinds]
    query = sa_select(_epoch(col(Booking.start_at), postgres, up=False),
                      _epoch(col(Booking.end_at), postgres, up=True),
                      *(cast(column, String) for column in (Booking.chair_id, Booking.device_id,
                                                            Booking.technician_id, Booking.patient_id, Booking.id)),
                      ).where(col(Booking.status).not_in(RELEASED), or_(*near), or_(*held))
    return query.where(col(Booking.course_id) != bindparam("course")) if exclude else query


def _epoch(stored: Mapped[datetime], postgres: bool, *, up: bool) -> ColumnElement[int]:
    """Whole UTC epoch seconds of a stored time, rounded down or up. Rounding outward can only make a held
    booking look longer to the planner, never let an overlap through (the database's constraints judge last)."""
    if postgres:
        seconds = extract("epoch", stored)
        return cast(func.ceil(seconds) if up else func.floor(seconds), BigInteger)
    # SQLite keeps the UTC wall clock as text; strftime('%s') drops the fraction (its clock counts milliseconds)
    return cast(func.strftime("%s", stored, "+0.999 seconds") if up else func.strftime("%s", stored), BigInteger)


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> dict[tuple[int, datetime], int]:
    """Insert bookings in one statement; the new id of each by (patient, start), which no two held bookings share
    (the rows come back from RETURNING in no promised order)."""
    returned = session.connection().execute(
        insert(Booking).returning(col(Booking.patient_id), col(Booking.start_at), col(Booking.id)), rows)
    return {(patient, start): booking_id for patient, start, booking_id in returned}


def chair_day(session: Session, clinic_id: int, chair_id: int, start: datetime,
              end: datetime) -> list[tuple[Booking, Patient, Course]]:
    """A chair's bookings starting in [start, end), with patient and course, in time order."""
    rows = session.exec(
        select(Booking, Patient, Course).join(Patient, col(Patient.id) == Booking.patient_id)
        .join(Course, col(Course.id) == Booking.course_id)
        .where(Booking.clinic_id == clinic_id, Booking.chair_id == chair_id,
               col(Booking.start_at) >= start, col(Booking.start_at) < end)
        .order_by(col(Booking.start_at), col(Booking.id))
    ).all()
    return [(b, p, c) for b, p, c in rows]


def in_clinic(session: Session, clinic_id: int, *, start: datetime | None, end: datetime | None,
              status: str | None, limit: int) -> list[Booking]:
    query = select(Booking).where(Booking.clinic_id == clinic_id)
    if start is not None:
        query = query.where(col(Booking.start_at) >= start)
    if end is not None:
        query = query.where(col(Booking.start_at) < end)
    if status is not None:
        query = query.where(Booking.status == status)
    return list(session.exec(query.order_by(col(Booking.start_at), col(Booking.id)).limit(limit)).all())


def pending_before(session: Session, clinic_id: int | None, before: datetime) -> list[Booking]:
    """Bookings still only booked although their end has passed (the missed-session sweep's input)."""
    query = select(Booking).where(Booking.status == BookingStatus.booked.value, col(Booking.end_at) <= before)
    if clinic_id is not None:
        query = query.where(Booking.clinic_id == clinic_id)
    return list(session.exec(query.order_by(col(Booking.start_at))).all())


def of_technician(session: Session, clinic_id: int, technician_id: int, start: datetime, end: datetime,
                  statuses: Sequence[str]) -> list[Booking]:
    """A technician's bookings starting in [start, end) with one of these statuses, in time order."""
    return list(session.exec(
        select(Booking).where(Booking.clinic_id == clinic_id, Booking.technician_id == technician_id,
                              col(Booking.status).in_(statuses), col(Booking.start_at) >= start,
                              col(Booking.start_at) < end)
        .order_by(col(Booking.start_at), col(Booking.id))
    ).all())
