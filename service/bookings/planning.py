"""Between the database and the pure planner: plan and book a course, re-plan missed sessions, find gaps.

Reads rows into the planner's plain data (string ids), runs ``schedules.planner`` and writes the result
back as bookings through ``service.insert`` (same overlap checks and audit as a single booking).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from config.course_templates import PhaseTemplate
from schedules.calendar import ClinicCalendar
from schedules.gaps import find_gaps, nominal_gap_business_days
from schedules.intervals import BusyIndex, Loader
from schedules.plan import PlannedSession, PlanRequest, PlanResult, TimeWindow, Unplaced
from schedules.planner import plan_course, replan_missed
from schedules.resources import ChairResource, HeldBooking, HeldSpan, Resources, TechnicianResource
from service.audit.service import Actor
from service.auth.principal import Principal
from service.authorizations import service as authorizations
from service.bookings import repository
from service.bookings import service as bookings
from service.calendar import service as calendar
from service.chairs import service as equipment
from service.core.clock import as_utc
from service.core.errors import Conflict, Unprocessable
from service.courses import repository as course_repo
from service.courses import service as courses
from service.flags.service import raise_flag
from service.models.bookings import RELEASED, Booking, BookingStatus
from service.models.courses import Course
from service.models.flags import FlagKind


@dataclass
class Outcome:
    """What a plan or re-plan did (or would do, on a dry run)."""

    booked: list[Booking] = field(default_factory=list)
    proposed: list[Booking] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Inputs:
    request: PlanRequest
    calendar: ClinicCalendar
    resources: Resources
    existing: BusyIndex  # loads the clinic's bookings over the hours the planner searches, as it reaches them
    today: date


def _inputs(session: Session, course: Course, now: datetime, start_date: date | None) -> Inputs:
    # held first: the session keeps loaded rows only while referenced, and the calendar reads the settings too
    settings = calendar.settings_of(session, course.clinic_id)
    cal = calendar.clinic_calendar(session, course.clinic_id)
    today = cal.local_date(now)
    window = TimeWindow(course.window_start, course.window_end) if course.window_start and course.window_end else None
    request = PlanRequest(
        course_id=str(course.id), patient_id=str(course.patient_id), protocol=course.protocol_id,
        phases=courses.phase_templates(session, course), start_date=start_date or course.start_date or today,
        session_minutes=bookings.session_minutes(course), setup_buffer_minutes=settings.setup_buffer_minutes,
        window=window, authorization=authorizations.for_planner(session, course, today),
        slot_step_minutes=settings.slot_step_minutes,
    )
    resources = Resources(equipment.planner_chairs(session, course.clinic_id),
                          calendar.planner_technicians(session, course.clinic_id, since=today))
    existing = BusyIndex(loader=_loader(session, course, resources.chairs_for(request.protocol),
                                        resources.technicians))
    midnight = cal.to_utc(today, time.min)
    if now > midnight:
        # the planner skips past days but not past hours of today: hold the patient until now
        existing.add_booking(HeldBooking(midnight, now, patient_id=str(course.patient_id), booking_id="now"))
    return Inputs(request, cal, resources, existing, today)


def _loader(session: Session, course: Course, chairs: tuple[ChairResource, ...],
            technicians: tuple[TechnicianResource, ...]) -> Loader:
    """The clinic's other bookings over the spans the planner asks for, held by a chair or device that can run
    the course's protocol, a technician, or the patient (the planner asks about no other resource). The database's
    exclusion constraints still refuse whatever the planner did not see."""
    held = {"chair": [int(c.id) for c in chairs], "device": [int(c.device_id) for c in chairs],
            "technician": [int(t.id) for t in technicians], "patient": [course.patient_id]}
    longest = bookings.longest_slot()

    def load(spans: Sequence[tuple[datetime, datetime]]) -> list[HeldSpan]:
        rows = repository.holding_over(session, course.clinic_id, spans, longest, held, exclude_course=course.id)
        return [HeldSpan(start, end, (("chair", c), ("device", d), ("technician", t), ("patient", p)), i)
                for start, end, c, d, t, p, i in rows]

    return load


def _row(course: Course, s: PlannedSession, who: Actor, now: datetime, auth_id: int | None) -> Booking:
    return Booking(clinic_id=course.clinic_id, course_id=course.id or 0, patient_id=course.patient_id,
                   chair_id=int(s.chair_id), device_id=int(s.device_id), technician_id=int(s.technician_id),
                   authorization_id=auth_id, start_at=s.start, end_at=s.end, phase_name=s.phase_name,
                   phase_kind=s.phase_kind, sequence=s.index, created_by=who.user_id, created_at=now, updated_at=now)


def _book_all(session: Session, who: Actor, course: Course, placed: list[PlannedSession], cal: ClinicCalendar,
              now: datetime, dry_run: bool, out: Outcome) -> None:
    pick = authorizations.allocator(session, course)
    rows: list[Booking] = []
    refusal: Conflict | None = None
    for s in sorted(placed, key=lambda p: p.start):
        if dry_run:
            out.proposed.append(_row(course, s, who, now, None))
            continue
        try:
            auth = pick(cal.local_date(s.start))
        except Conflict as exc:  # the sessions before this one are still booked first, as one by one they were
            refusal = exc
            break
        rows.append(_row(course, s, who, now, auth.id if auth else None))
    out.booked += bookings.insert_many(session, who, rows, now)
    if refusal is not None:
        raise refusal


def plan_and_book(session: Session, who: Principal, course_id: int, start_date: date | None, dry_run: bool,
                  now: datetime) -> Outcome:
    """Plan every session of a course that has no bookings yet, and book what fits; the rest come back with
    the constraints that stopped them."""
    course = bookings.open_course(session, who, course_id)
    if any(b.status not in RELEASED for b in course_repo.bookings_of(session, course_id)):
        raise Conflict(f"course_id: course {course_id} already has bookings; re-plan missed sessions or book"
                       " single sessions instead", code="already_planned")
    inputs = _inputs(session, course, now, start_date)
    result = plan_course(inputs.request, inputs.calendar, inputs.resources, inputs.existing, inputs.today)
    out = Outcome(unplaced=list(result.unplaced), warnings=list(result.warnings))
    _book_all(session, who.actor, course, list(result.placed), inputs.calendar, now, dry_run, out)
    if not dry_run and result.placed and course.start_date is None:
        course.start_date = result.placed[0].day
        session.add(course)
    _flag_authorization(session, course, result, now)
    return out


def plan_phases(session: Session, who: Principal, course: Course, phases: tuple[PhaseTemplate, ...],
                first_index: int, start_date: date, dry_run: bool, now: datetime, *, releasing: int = 0) -> Outcome:
    """Plan and book some new phases of a course (an extension) from ``start_date``, numbering sessions from
    ``first_index``; ``releasing`` bookings that a dry run would cancel no longer count against the units."""
    inputs = _inputs(session, course, now, start_date)
    request = replace(inputs.request, phases=phases, first_index=first_index, start_date=start_date)
    if request.authorization is not None and releasing:
        auth = request.authorization
        request = replace(request, authorization=replace(auth, units_used=max(auth.units_used - releasing, 0)))
    result = plan_course(request, inputs.calendar, inputs.resources, inputs.existing, inputs.today)
    out = Outcome(unplaced=list(result.unplaced), warnings=list(result.warnings))
    _book_all(session, who.actor, course, list(result.placed), inputs.calendar, now, dry_run, out)
    _flag_authorization(session, course, result, now)
    return out


def _current_plan(session: Session, course: Course, cal: ClinicCalendar) -> tuple[PlanResult, list[Booking]]:
    """The course's held sessions, plus each missed one at its latest released time, as a planner result."""
    # the planner indexes the phases it is given (an extension's replaced phases are not among them)
    positions = {p.name: n for n, p in enumerate(course_repo.phases(session, course.id or 0))}
    rows = [b for b in course_repo.bookings_of(session, course.id or 0) if b.phase_name in positions]
    held = {b.sequence: b for b in rows if b.status not in RELEASED}
    missed: dict[int, Booking] = {}
    for b in rows:
        if b.status in RELEASED and b.sequence not in held:
            previous = missed.get(b.sequence)
            if previous is None or as_utc(b.start_at) > as_utc(previous.start_at):
                missed[b.sequence] = b
    placed = [PlannedSession(b.sequence, positions.get(b.phase_name, 0), b.phase_name, b.phase_kind,
                             cal.local_date(as_utc(b.start_at)), as_utc(b.start_at), as_utc(b.end_at),
                             str(b.chair_id), str(b.device_id), str(b.technician_id))
              for b in [*held.values(), *missed.values()]]
    return PlanResult(tuple(sorted(placed, key=lambda s: s.start)), ()), sorted(missed.values(),
                                                                                 key=lambda b: b.sequence)


def replan(session: Session, who: Principal, course_id: int, dry_run: bool, now: datetime) -> Outcome:
    """Move each missed session to the end of its phase (later phases after it), booking the new times and
    releasing the old; warns when the plan now crosses the authorization's end date or units."""
    course = bookings.open_course(session, who, course_id)
    inputs = _inputs(session, course, now, None)
    plan, missed = _current_plan(session, course, inputs.calendar)
    if not missed:
        raise Conflict(f"course_id: course {course_id} has no missed sessions to re-plan", code="nothing_missed")
    request = _replan_request(inputs.request, plan, missed, inputs.today)
    out = Outcome()
    for booking in missed:
        if not any(s.index == booking.sequence and as_utc(booking.start_at) == s.start for s in plan.placed):
            continue  # an earlier re-plan in this loop already moved it
        plan = replan_missed(request, plan, booking.sequence, inputs.calendar, inputs.resources, inputs.existing,
                             inputs.today).result
    out.unplaced, out.warnings = list(plan.unplaced), list(plan.warnings)
    _apply(session, who.actor, course, plan, inputs.calendar, now, dry_run, out)
    _flag_authorization(session, course, plan, now)
    return out


def _replan_request(request: PlanRequest, plan: PlanResult, missed: list[Booking], today: date) -> PlanRequest:
    """The planner holds kept sessions from today on and counts their units itself: do not count them twice."""
    auth = request.authorization
    if auth is None:
        return request
    gone = {b.sequence for b in missed}
    ahead = sum(1 for s in plan.placed if s.day >= today and s.index not in gone)
    return replace(request, authorization=replace(auth, units_used=max(auth.units_used - ahead, 0)))


def _apply(session: Session, who: Actor, course: Course, plan: PlanResult, cal: ClinicCalendar, now: datetime,
           dry_run: bool, out: Outcome) -> None:
    """Release bookings whose session moved or became unplaced, then book the new times."""
    held = {b.sequence: b for b in course_repo.bookings_of(session, course.id or 0) if b.status not in RELEASED}
    wanted = {s.index: s for s in plan.placed}
    moved = [s for s in plan.placed if s.index not in held or as_utc(held[s.index].start_at) != s.start
             or str(held[s.index].chair_id) != s.chair_id]
    for seq, booking in held.items():
        if seq not in wanted or wanted[seq] in moved:
            out.cancelled.append(booking.id or 0)
            if not dry_run:
                bookings.transition(session, who, booking, BookingStatus.cancelled, "moved by re-planning", now)
    _book_all(session, who, course, moved, cal, now, dry_run, out)


def _flag_authorization(session: Session, course: Course, plan: PlanResult, now: datetime) -> None:
    crossing = [w for w in plan.warnings if "authorization" in w]
    if crossing:
        raise_flag(session, clinic_id=course.clinic_id, key=f"auth_crossed:{course.id}:{now:%Y%m%d}",
                   kind=FlagKind.authorization_crossed, course_id=course.id, patient_id=course.patient_id,
                   message="; ".join(crossing), now=now)


def after_missed(session: Session, booking: Booking, now: datetime, actor: Actor) -> list[str]:
    """Flag a missed session and, if the course's gap is now too long, the course for review."""
    course = session.get(Course, booking.course_id)
    assert course is not None
    cal = calendar.clinic_calendar(session, course.clinic_id)
    day = cal.local_date(as_utc(booking.start_at))
    flags: list[str] = []
    missed = raise_flag(session, clinic_id=course.clinic_id, key=f"missed:{booking.id}", kind=FlagKind.missed_session,
                        course_id=course.id, patient_id=course.patient_id, booking_id=booking.id, actor=actor,
                        message=f"session {booking.sequence} on {day} was {booking.status}: re-plan it", now=now)
    flags += [missed.message] if missed else []
    flags += check_gaps(session, course, cal, now, actor)
    return flags


def check_gaps(session: Session, course: Course, cal: ClinicCalendar, now: datetime, actor: Actor) -> list[str]:
    """Flag the course when its sessions (done, then the next booked one, or today if none is booked) leave a
    gap longer than the clinic allows, beyond what the phase's own rhythm leaves (a taper week is no gap)."""
    today = cal.local_date(now)
    rows = sorted((b for b in course_repo.bookings_of(session, course.id or 0) if b.status not in RELEASED),
                  key=lambda b: b.start_at)
    entries = [(cal.local_date(as_utc(b.start_at)), b.phase_name) for b in rows]
    done = [e for e in entries if e[0] <= today]
    ahead = [e for e in entries if e[0] > today]
    if not done:
        return []
    series = done + ahead[:1] if ahead else [*done, (today + timedelta(days=1), done[-1][1])]
    allowance = {p.name: nominal_gap_business_days(p) for p in courses.phase_templates(session, course)}
    policy = calendar.gap_policy(session, course.clinic_id)
    out = []
    for (before, _), (after, phase) in zip(series, series[1:], strict=False):
        for gap in find_gaps([before, after], cal, policy, allowance_business_days=allowance.get(phase, 0)):
            if not gap.needs_review:
                continue
            text = (f"gap of {gap.business_days} business days between {gap.after} and {gap.until}"
                    + ("; motor threshold is stale: re-determine before the next session" if gap.mt_stale else ""))
            flag = raise_flag(session, clinic_id=course.clinic_id, key=f"gap:{course.id}:{gap.after}",
                              kind=FlagKind.gap, course_id=course.id, patient_id=course.patient_id, message=text,
                              now=now, actor=actor)
            out += [flag.message] if flag else []
    return out


def outcome_public(session: Session, course: Course, dry_run: bool, out: Outcome, now: datetime) -> dict[str, Any]:
    """The API shape of an outcome, with the course's current authorization and what is left of it."""
    auth = authorizations.current(session, course, calendar.clinic_calendar(session, course.clinic_id).local_date(now))
    return {
        "course_id": course.id, "dry_run": dry_run,
        "booked": [bookings.public(session, b) for b in out.booked],
        "proposed": [b.model_dump() | {"id": 0, "version": 0, "status": "proposed", "authorization": None}
                     for b in out.proposed],
        "unplaced": [{"sequence": u.index, "phase": u.phase, "wanted_date": u.wanted_date, "reasons": list(u.reasons)}
                     for u in out.unplaced],
        "cancelled": out.cancelled, "warnings": out.warnings, "authorization": authorizations.brief(session, auth),
    }


def record_status(session: Session, who: Principal, booking_id: int, status: BookingStatus, reason: str | None,
                  now: datetime) -> tuple[Booking, list[str]]:
    """Front-desk status change (checked in, no-show, cancelled); a missed session raises its review flags."""
    if status in (BookingStatus.no_show, BookingStatus.cancelled) and not reason:
        raise Unprocessable("reason", f"a reason is required to mark a booking {status.value}")
    booking = bookings.get_or_404(session, who, booking_id)
    bookings.transition(session, who.actor, booking, status, reason, now)
    flags = after_missed(session, booking, now, who.actor) if booking.status in RELEASED else []
    return booking, flags
