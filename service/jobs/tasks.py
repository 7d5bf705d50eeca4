"""Background job functions. Each takes ids (never ORM objects), claims its occurrence, does its work in one
transaction, and records what it found as review flags (service.flags), whose keys make it idempotent.

A claim is a ``job_run`` row unique on (job id, period) inserted in the same transaction as the work
(docs/records-and-signatures.md#scheduled-jobs-run-once): a second scheduler, or a re-run after a
crash, cannot do one occurrence twice, and a job that fails leaves no claim, so the next occurrence
tries again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from config.settings import Settings
from service.audit.service import SYSTEM
from service.authorizations import repository as authorization_repo
from service.authorizations import service as authorizations
from service.bookings import planning
from service.bookings import repository as booking_repo
from service.bookings import service as bookings
from service.calendar import service as calendar
from service.core.clock import Clock, as_utc
from service.core.db import session_scope
from service.courses import repository as course_repo
from service.flags.service import raise_flag
from service.models.adverse_events import ReportingTask
from service.models.assessments import Assessment
from service.models.authorizations import Authorization
from service.models.bookings import DELIVERED, Booking, BookingStatus
from service.models.clinics import Clinic
from service.models.courses import Course, CourseStatus
from service.models.flags import FlagKind
from service.models.jobs import JobRun
from service.models.motor_thresholds import MotorThreshold

RUNNER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class JobContext:
    """What job functions need from the process that runs them (bound when its scheduler starts)."""

    engine: Engine
    settings: Settings
    clock: Clock


_context: JobContext | None = None


def bind(context: JobContext | None) -> None:
    """Give job functions their engine, settings and clock (the scheduler calls this before starting)."""
    global _context
    _context = context


def context() -> JobContext:
    if _context is None:
        raise RuntimeError("job functions need service.jobs.tasks.bind(...) first (the scheduler does it)")
    return _context


def claimed(job_id: str, period: datetime, work: Callable[[Session, datetime], int]) -> int | None:
    """Run ``work`` once for (job_id, period): None when another run already claimed it, else what it found."""
    ctx = context()
    now = ctx.clock.now()
    try:
        with session_scope(ctx.engine) as session:
            run = JobRun(job_id=job_id, scheduled_for=period, runner=RUNNER, started_at=now)
            session.add(run)
            session.flush()
            run.found = work(session, now)
            run.finished_at = ctx.clock.now()
            session.add(run)
            return run.found
    except IntegrityError as exc:
        if "job_run" in str(exc.orig) or "uq_job_run" in str(exc.orig):
            return None
        raise


def _day(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


def _week(now: datetime) -> datetime:
    day = now.astimezone(UTC).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time.min, tzinfo=UTC)


# ---------------------------------------------------------------- end-of-day missed-session sweep


def sweep_missed(clinic_id: int) -> int | None:
    """Mark bookings still only 'booked' after their end as no-shows, flag them, and flag long gaps."""
    return claimed(f"sweep:{clinic_id}", _day(context().clock.now()), lambda s, now: _sweep(s, clinic_id, now))


def _sweep(session: Session, clinic_id: int, now: datetime) -> int:
    found = 0
    for booking in booking_repo.pending_before(session, clinic_id, now):
        bookings.transition(session, SYSTEM, booking, BookingStatus.no_show,
                            "not checked in by the end of the day (automatic sweep)", now)
        found += len(planning.after_missed(session, booking, now, SYSTEM))
    cal = calendar.clinic_calendar(session, clinic_id)
    for course in course_repo.open_courses(session, clinic_id):
        if course.status == CourseStatus.active.value:
            found += len(planning.check_gaps(session, course, cal, now, SYSTEM))
    return found


# ---------------------------------------------------------------- PHQ-9 weekly


def last_phq9_at(session: Session, course: Course) -> datetime | None:
    """When the patient's last PHQ-9 was administered (any course: the scale is the patient's)."""
    found = session.exec(select(func.max(Assessment.administered_at)).where(
        Assessment.patient_id == course.patient_id, Assessment.instrument == "PHQ-9")).one()
    return as_utc(found) if found else None


def phq9_due(course_id: int) -> int | None:
    """Flag a weekly PHQ-9 for an active course unless one was recorded this week.

    Cadence: docs/clinical-rules.md#measurement-cadence.
    """
    return claimed(f"phq9:{course_id}", _week(context().clock.now()), lambda s, now: _phq9(s, course_id, now))


def _phq9(session: Session, course_id: int, now: datetime) -> int:
    course = session.get(Course, course_id)
    if course is None or course.status != CourseStatus.active.value:
        return 0
    last = last_phq9_at(session, course)
    if last is not None and now - as_utc(last) < timedelta(days=7):
        return 0
    week = _week(now).date()
    flag = raise_flag(session, clinic_id=course.clinic_id, key=f"phq9:{course_id}:{week}", kind=FlagKind.phq9_due,
                      course_id=course_id, patient_id=course.patient_id, now=now, due_at=now + timedelta(days=2),
                      message=f"weekly PHQ-9 due (week of {week})")
    return int(flag is not None)


# ---------------------------------------------------------------- MT re-determination due


def last_mt_at(session: Session, course: Course) -> datetime | None:
    """When the patient's motor threshold was last determined."""
    found = session.exec(select(func.max(MotorThreshold.determined_at)).where(
        MotorThreshold.patient_id == course.patient_id)).one()
    return as_utc(found) if found else None


def mt_due(course_id: int) -> int | None:
    """Flag an MT re-determination every N delivered sessions or weekly (docs/clinical-rules.md#mt-redetermination)."""
    return claimed(f"mt:{course_id}", _day(context().clock.now()), lambda s, now: _mt(s, course_id, now))


def _mt(session: Session, course_id: int, now: datetime) -> int:
    course = session.get(Course, course_id)
    if course is None or course.status != CourseStatus.active.value:
        return 0
    # Sessions that count towards MT freshness: completed or interrupted (docs/billing.md).
    done = [as_utc(b.start_at) for b in course_repo.bookings_of(session, course_id, DELIVERED)]
    since = as_utc(last_mt_at(session, course) or (min(done) if done else now))
    after = [d for d in done if d > since]
    every = context().settings.mt_redetermine_every_sessions
    if len(after) < every and now - since < timedelta(days=7):
        return 0
    why = f"{len(after)} sessions" if len(after) >= every else f"{(now - since).days} days"
    flag = raise_flag(session, clinic_id=course.clinic_id, key=f"mt:{course_id}:{since:%Y%m%d%H%M}",
                      kind=FlagKind.mt_due, course_id=course_id, patient_id=course.patient_id, now=now,
                      message=f"motor threshold re-determination due: {why} since {since:%Y-%m-%d}")
    return int(flag is not None)


# ---------------------------------------------------------------- authorization running out


def authorization_check(authorization_id: int) -> int | None:
    """Flag an authorization that is about to run out of units or days, or cannot cover the course's plan."""
    return claimed(f"auth:{authorization_id}", _day(context().clock.now()),
                   lambda s, now: _authorization(s, authorization_id, now))


def _authorization(session: Session, authorization_id: int, now: datetime) -> int:
    auth = session.get(Authorization, authorization_id)
    if auth is None or auth.status != "active":
        return 0
    settings = context().settings
    sessions = authorizations.usage(session, auth)["sessions"]
    today = calendar.clinic_calendar(session, auth.clinic_id).local_date(now)
    course = session.get(Course, auth.course_id)
    planned = sum(p.planned_sessions for p in course_repo.phases(session, auth.course_id)) if course else 0
    still_needed = planned - _delivered(session, auth.course_id)
    problems = []
    if sessions["remaining"] <= settings.authorization_warn_units and still_needed > sessions["remaining"]:
        problems.append(("units", f"{sessions['remaining']} session units left; the course needs {still_needed}"))
    if 0 <= (auth.end_date - today).days <= settings.authorization_warn_days and still_needed > 0:
        problems.append(("date", f"ends on {auth.end_date} with {still_needed} session(s) of the course to go"))
    found = 0
    for what, text in problems:
        flag = raise_flag(session, clinic_id=auth.clinic_id, key=f"auth_low:{authorization_id}:{what}",
                          kind=FlagKind.authorization_low, course_id=auth.course_id, patient_id=auth.patient_id,
                          now=now, message=f"authorization {auth.number} ({auth.payer}): {text}")
        found += int(flag is not None)
    return found


def _delivered(session: Session, course_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Booking).where(
        Booking.course_id == course_id, col(Booking.status).in_(DELIVERED))).one())


# ---------------------------------------------------------------- serious adverse event reporting deadline


def sae_deadlines(session: Session) -> list[tuple[int, int, int | None, datetime]]:
    """Open serious-AE reporting deadlines as (ae_id, clinic_id, patient_id, due_at): the start of the due day, UTC."""
    rows = session.exec(select(ReportingTask).where(ReportingTask.status == "open",
                                                    col(ReportingTask.due_on).is_not(None))).all()
    return [(t.adverse_event_id, t.clinic_id, t.patient_id, datetime.combine(t.due_on, time.min, tzinfo=UTC))
            for t in rows if t.due_on is not None]


def sae_reporting_deadline(ae_id: int, clinic_id: int, patient_id: int | None, due_iso: str) -> int | None:
    """Flag a serious adverse event whose report (21 CFR 803) falls due at ``due_iso``."""
    due = datetime.fromisoformat(due_iso)
    return claimed(f"sae:{ae_id}", due, lambda s, now: int(raise_flag(
        s, clinic_id=clinic_id, key=f"sae:{ae_id}", kind=FlagKind.sae_report_due, patient_id=patient_id, now=now,
        due_at=due, message=f"serious adverse event {ae_id}: the report is due by {due:%Y-%m-%d %H:%M} UTC",
    ) is not None))


# ---------------------------------------------------------------- rows the scheduler derives jobs from


@dataclass(frozen=True)
class Derived:
    """One job the rows call for: deterministic id, function reference, arguments, trigger spec."""

    id: str
    func: str
    args: tuple[Any, ...]
    trigger: str
    trigger_args: dict[str, Any]


def derive(session: Session, settings: Settings, now: datetime) -> list[Derived]:
    """Every job the current rows call for (the scheduler adds these and removes the rest)."""
    eod_h, eod_m = (int(x) for x in settings.scheduler_end_of_day.split(":"))
    am_h, am_m = (int(x) for x in settings.scheduler_morning.split(":"))
    zones = {c.id: c.timezone for c in session.exec(select(Clinic).order_by(col(Clinic.id))).all()}
    out = [Derived(f"sweep:{cid}", "service.jobs.tasks:sweep_missed", (cid,), "cron",
                   {"hour": eod_h, "minute": eod_m, "timezone": tz}) for cid, tz in zones.items()]
    for course in course_repo.open_courses(session):
        tz = zones.get(course.clinic_id, "UTC")
        weekday = (course.start_date or date(2001, 1, 1)).weekday()  # 2001-01-01 is a Monday
        out.append(Derived(f"phq9:{course.id}", "service.jobs.tasks:phq9_due", (course.id,), "cron",
                           {"day_of_week": weekday, "hour": am_h, "minute": am_m, "timezone": tz}))
        out.append(Derived(f"mt:{course.id}", "service.jobs.tasks:mt_due", (course.id,), "cron",
                           {"hour": am_h, "minute": am_m, "timezone": tz}))
    for auth in authorization_repo.all_active(session):
        out.append(Derived(f"auth:{auth.id}", "service.jobs.tasks:authorization_check", (auth.id,), "cron",
                           {"hour": am_h, "minute": am_m, "timezone": zones.get(auth.clinic_id, "UTC")}))
    for ae_id, clinic_id, patient_id, due in sae_deadlines(session):
        run = max(now, as_utc(due) - timedelta(days=1))
        out.append(Derived(f"sae:{ae_id}", "service.jobs.tasks:sae_reporting_deadline",
                           (ae_id, clinic_id, patient_id, as_utc(due).isoformat()), "date", {"run_date": run}))
    return out

