"""Shared plumbing for the clinical resources: rule errors as 422s, the clinic's date, amendments, course lookup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from service.audit import service as audit
from service.auth.principal import Principal
from service.core.errors import Conflict, NotFound, Unprocessable, error_body
from service.models.clinics import Clinic
from service.models.courses import Course
from service.rules.errors import RuleInputError
from service.signatures import service as signatures
from service.signatures.subjects import SUBJECTS as SIGNABLE


@contextmanager
def field_errors(prefix: str = "") -> Iterator[None]:
    """Turn a rule engine's ``RuleInputError`` into a 422 naming the request field (``prefix`` + its field)."""
    try:
        yield
    except RuleInputError as exc:
        raise Unprocessable(f"{prefix}{exc.field}", exc.message) from None


def install(app: FastAPI) -> None:
    """Safety net: a RuleInputError that escapes a service is still a 422 naming its field, never a 500."""

    @app.exception_handler(RuleInputError)
    async def _rule_input(_: Request, exc: RuleInputError) -> JSONResponse:
        details = [{"field": exc.field, "message": exc.message}]
        return JSONResponse(error_body("validation_error", f"{exc.field}: {exc.message}", details), 422)


def clinic(session: Session, clinic_id: int) -> Clinic:
    """The clinic row (it always exists for a signed-in caller)."""
    found = session.get(Clinic, clinic_id)
    if found is None:
        raise NotFound(f"clinic {clinic_id} not found")
    return found


def local_now(session: Session, clinic_id: int, now: datetime) -> datetime:
    """``now`` in the clinic's time zone: calendar dates of clinical records are the clinic's dates."""
    return now.astimezone(ZoneInfo(clinic(session, clinic_id).timezone))


def clinic_today(session: Session, clinic_id: int, now: datetime) -> date:
    """Today's date in the clinic's time zone."""
    return local_now(session, clinic_id, now).date()


def require_past(field: str, value: date | datetime, now: datetime, today: date) -> None:
    """Refuse a clinical date or time that lies in the future."""
    future = value > now if isinstance(value, datetime) else value > today
    if future:
        raise Unprocessable(field, f"{value.isoformat()} is in the future")


def require_order(field: str, start: date | None, stop: date | None) -> None:
    """Refuse a stop date before its start date."""
    if start is not None and stop is not None and stop < start:
        raise Unprocessable(field, f"stop date {stop.isoformat()} is before start date {start.isoformat()}")


def course_for_patient(
    session: Session, clinic_id: int, patient_id: int, course_id: int, *, field: str | None = "course_id"
) -> Course:
    """The patient's course; a body field naming another patient's course is a 422, a path id a 404."""
    course = session.exec(
        select(Course).where(Course.id == course_id, Course.clinic_id == clinic_id, Course.patient_id == patient_id)
    ).first()
    if course is None:
        if field is None:
            raise NotFound(f"course {course_id} not found")
        raise Unprocessable(field, f"course {course_id} is not a course of this patient")
    return course


def amend_row(
    session: Session, who: Principal, row: Any, changes: dict[str, Any], *,
    entity: str, patient_id: int, reason: str, now: datetime,
) -> None:
    """Apply ``changes`` to a versioned row; old values and the reason go to the audit trail, the version goes up."""
    skip = {"created_at", "updated_at"}
    before = row.model_dump(exclude=skip)
    for name, value in changes.items():
        setattr(row, name, value)
    old, new = audit.changed_fields(before, row.model_dump(exclude=skip))
    if not new:
        raise Unprocessable("body", "the amendment changes nothing: every value equals the current one")
    row.version += 1
    row.updated_at = now
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="amend", entity=entity, entity_id=row.id,
                 patient_id=patient_id, old=old, new=new | {"version": row.version}, reason=reason)
    if entity in SIGNABLE:  # a signature stands for the version it signed, not for the amendment
        signatures.supersede(session, who, entity, row.id, row.version, reason, now)


def created(session: Session, who: Principal, row: Any, *, entity: str, patient_id: int | None, now: datetime) -> None:
    """Flush a new row and audit its creation with all its values."""
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity=entity, entity_id=row.id,
                 patient_id=patient_id, new=row.model_dump(exclude={"created_at", "updated_at"}))


def read_audit(session: Session, who: Principal, *, entity: str, patient_id: int, now: datetime,
               entity_id: Any = None, detail: dict[str, Any] | None = None) -> None:
    """Audit a read of a patient's clinical record."""
    audit.record(session, who.actor, at=now, action="read", entity=entity, entity_id=entity_id,
                 patient_id=patient_id, new=detail)


def conflict(field: str, message: str) -> Conflict:
    """A 409 that names the field whose state forbids the request."""
    return Conflict(f"{field}: {message}", details=[{"field": field, "message": message}])
