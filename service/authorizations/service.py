"""Authorization rules: units per CPT code inside a date window; used units come from delivered sessions.

Session units are CPT 90867 (the first session, with MT determination; once per course) plus 90868 (each
later session). A booking draws on the active authorization of its course whose window holds the
booking's local date; it is refused when none does or when delivered + booked sessions fill the units.
A course without any authorization on file books freely (self-pay).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from schedules.plan import AuthorizationLimit
from service.audit import service as audit
from service.auth.principal import Principal
from service.authorizations import repository
from service.authorizations.schemas import AuthorizationAmend, AuthorizationCreate, UnitGrant
from service.core.errors import Conflict, NotFound, Unprocessable
from service.courses import service as courses
from service.models.authorizations import Authorization, AuthorizationStatus, AuthorizationUnit, Cpt
from service.models.bookings import Booking
from service.models.courses import Course
from service.models.sessions import TreatmentSession

ENTITY = "authorization"


def mt_redeterminations(session: Session, authorization: Authorization) -> int:
    """MT re-determinations (CPT 90869) delivered under this authorization: sessions billed 90869."""
    return int(session.exec(select(func.count()).select_from(TreatmentSession).join(
        Booking, col(Booking.id) == TreatmentSession.booking_id).where(
        Booking.authorization_id == authorization.id, TreatmentSession.cpt_code == "90869",
        col(TreatmentSession.status).in_(("completed", "interrupted")))).one())


def usage(session: Session, auth: Authorization) -> dict[str, Any]:
    """Units per CPT code and session units: authorized, delivered, booked, remaining."""
    grants = {u.cpt: u.units for u in repository.units(session, auth.id or 0)}
    delivered, booked = repository.booking_counts(session, auth.id or 0)
    initial = grants.get(Cpt.initial.value, 0)
    capacity = initial + grants.get(Cpt.session.value, 0)
    # the first delivered (or booked) session bills 90867 when it is authorized, the rest 90868
    used_initial, booked_initial = min(delivered, initial), min(booked, initial - min(delivered, initial))
    use = {Cpt.initial.value: (used_initial, booked_initial),
           Cpt.session.value: (delivered - used_initial, booked - booked_initial),
           Cpt.mt_redetermination.value: (mt_redeterminations(session, auth), 0)}
    units = [{"cpt": cpt, "units": n, "used": use[cpt][0], "booked": use[cpt][1],
              "remaining": n - use[cpt][0]} for cpt, n in sorted(grants.items())]
    sessions = {"authorized": capacity, "delivered": delivered, "booked": booked,
                "remaining": capacity - delivered, "unbooked": capacity - delivered - booked}
    return {"units": units, "sessions": sessions}


def public(session: Session, auth: Authorization) -> dict[str, Any]:
    return auth.model_dump() | usage(session, auth)


def brief(session: Session, auth: Authorization | None) -> dict[str, Any] | None:
    """The authorization summary shown beside a booking."""
    if auth is None:
        return None
    return {"id": auth.id, "number": auth.number, "end_date": auth.end_date,
            "sessions": usage(session, auth)["sessions"]}


def get_or_404(session: Session, who: Principal, authorization_id: int) -> Authorization:
    auth = repository.get(session, who.clinic_id, authorization_id)
    if auth is None:
        raise NotFound(f"authorization {authorization_id} not found")
    return auth


def _grant(session: Session, auth_id: int, units: list[UnitGrant]) -> None:
    for old in repository.units(session, auth_id):
        session.delete(old)  # replaced as a whole; the audit row keeps the old grants
    session.flush()
    session.add_all([AuthorizationUnit(authorization_id=auth_id, cpt=u.cpt.value, units=u.units) for u in units])


def _snapshot(session: Session, auth: Authorization) -> dict[str, Any]:
    grants = {u.cpt: u.units for u in repository.units(session, auth.id or 0)}
    return auth.model_dump(exclude={"created_at", "updated_at"}) | {"units": grants}


def create(session: Session, who: Principal, data: AuthorizationCreate, now: datetime) -> Authorization:
    """Record a payer authorization for a course."""
    course = courses.get_or_404(session, who, data.course_id)
    if repository.by_number(session, who.clinic_id, data.payer, data.number) is not None:
        raise Conflict(f"number: {data.payer} authorization {data.number!r} is already on file",
                       code="duplicate_authorization")
    if not any(u.cpt in (Cpt.initial, Cpt.session) for u in data.units):
        raise Unprocessable("units", "an authorization needs session units: CPT 90867 and/or 90868")
    auth = Authorization(**data.model_dump(exclude={"units"}), clinic_id=who.clinic_id,
                         patient_id=course.patient_id, created_at=now, updated_at=now)
    session.add(auth)
    session.flush()
    _grant(session, auth.id or 0, data.units)
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity=ENTITY, entity_id=auth.id,
                 patient_id=auth.patient_id, new=_snapshot(session, auth))
    return auth


def amend(session: Session, who: Principal, authorization_id: int, data: AuthorizationAmend,
          now: datetime) -> Authorization:
    """Change the window, units, number or status, with a reason; units never drop below what is used."""
    auth = get_or_404(session, who, authorization_id)
    before = _snapshot(session, auth)
    for name, value in data.model_dump(exclude_unset=True, exclude={"reason", "units"}).items():
        setattr(auth, name, value)
    if auth.end_date < auth.start_date:
        raise Unprocessable("end_date", f"{auth.end_date} is before start_date {auth.start_date}")
    if data.units is not None:
        _grant(session, auth.id or 0, data.units)
    session.flush()
    sessions = usage(session, auth)["sessions"]
    if sessions["authorized"] < sessions["delivered"] + sessions["booked"]:
        raise Conflict(f"units: {sessions['authorized']} session units are fewer than the"
                       f" {sessions['delivered']} delivered + {sessions['booked']} booked; cancel bookings first")
    old, new = audit.changed_fields(before, _snapshot(session, auth))
    if not new:
        raise Unprocessable("body", "the amendment changes nothing: every value equals the current one")
    auth.version += 1
    auth.updated_at = now
    session.add(auth)
    session.flush()
    audit.record(session, who.actor, at=now, action="amend", entity=ENTITY, entity_id=auth.id,
                 patient_id=auth.patient_id, old=old, new=new | {"version": auth.version}, reason=data.reason)
    return auth


def for_booking(session: Session, course: Course, day: date) -> Authorization | None:
    """The authorization a new session on this local date draws on; Conflict naming why none can."""
    return allocator(session, course)(day)


def allocator(session: Session, course: Course) -> Callable[[date], Authorization | None]:
    """``for_booking`` for many new sessions of one transaction: usage is read once, then counted down."""
    every = repository.of_course(session, course.id or 0)
    auths = [a for a in every if a.status == AuthorizationStatus.active.value]
    if not auths and every:
        raise Conflict("authorization: every authorization of this course is withdrawn", code="authorization")
    left = {a.id: usage(session, a)["sessions"]["unbooked"] for a in auths}

    def pick(day: date) -> Authorization | None:
        if not auths:
            return None  # no authorization on file: self-pay
        covering = [a for a in auths if a.start_date <= day <= a.end_date]
        if not covering:
            windows = ", ".join(f"{a.number} {a.start_date}..{a.end_date}" for a in auths)
            raise Conflict(f"authorization: {day} is outside every authorization window ({windows})",
                           code="authorization_dates")
        for auth in covering:
            if left[auth.id] > 0:
                left[auth.id] -= 1
                return auth
        used = "; ".join(f"{a.number}: {usage(session, a)['sessions']}" for a in covering)
        raise Conflict(f"authorization: no session units left ({used})", code="authorization_units")

    return pick


def current(session: Session, course: Course, today: date) -> Authorization | None:
    """The course's active authorization covering today, else the next to start."""
    auths = [a for a in repository.of_course(session, course.id or 0, active_only=True) if a.end_date >= today]
    return min(auths, key=lambda a: (a.start_date > today, a.start_date)) if auths else None


def for_planner(session: Session, course: Course, today: date) -> AuthorizationLimit | None:
    """The current authorization for the pure planner; ``units_used`` counts delivered and booked sessions
    (the planner only places new ones)."""
    auth = current(session, course, today)
    if auth is None:
        return None
    sessions = usage(session, auth)["sessions"]
    return AuthorizationLimit(auth.start_date, auth.end_date, sessions["authorized"],
                                sessions["delivered"] + sessions["booked"], auth.number)


def listing(session: Session, who: Principal, course_id: int | None) -> list[Authorization]:
    if course_id is not None:
        courses.get_or_404(session, who, course_id)
        return repository.of_course(session, course_id)
    return repository.in_clinic(session, who.clinic_id, active_only=False)
