"""Course rules: a psychiatrist orders a course from the protocol catalog and a course template; its
phases carry planned and authorized counts; status moves planned -> active -> completed/discontinued
(or on_hold and back) with a reason; retreatment needs a prior response >50%
(docs/clinical-rules.md#retreatment). Every write is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from config.clinical_data import Protocol
from config.course_templates import CourseTemplate, IntensiveRhythm, PhaseTemplate, WeeklyRhythm, get_course_template
from service.audit import service as audit
from service.auth.principal import Principal
from service.core.clock import as_utc
from service.core.errors import Conflict, NotFound, Unprocessable
from service.courses import eligibility_gate, repository
from service.courses.schemas import CourseAmend, CourseCreate, PhaseAuthorization
from service.eligibility.facts import prior_courses
from service.flags.service import raise_flag
from service.models.bookings import BookingStatus
from service.models.courses import Course, CourseKind, CoursePhase, CourseStatus
from service.models.flags import FlagKind
from service.models.patients import Patient
from service.models.protocols import ProtocolOverride
from service.patients import service as patients
from service.protocols import dose_gate
from service.protocols.service import params_sha256
from service.rules import protocols
from service.rules.errors import RuleInputError

ENTITY = "course"
OPEN = (CourseStatus.planned.value, CourseStatus.active.value, CourseStatus.on_hold.value)
RETREATMENT_MIN_RESPONSE_PCT = 50.0  # payers: prior response >50% (docs/clinical-rules.md#retreatment)
TRANSITIONS = {
    CourseStatus.planned: {CourseStatus.active, CourseStatus.on_hold, CourseStatus.discontinued},
    CourseStatus.active: {CourseStatus.on_hold, CourseStatus.completed, CourseStatus.discontinued},
    CourseStatus.on_hold: {CourseStatus.active, CourseStatus.discontinued},
    CourseStatus.completed: set(),
    CourseStatus.discontinued: set(),
}


def prior_response_percent(session: Session, patient_id: int) -> float | None:
    """The patient's best response (% improvement from the course baseline, by the last stored assessment)
    in an earlier, ended course; None when no ended course has a scored assessment (retreatment is refused).
    """
    patient = session.get(Patient, patient_id)
    if patient is None:
        return None
    earlier = list(session.exec(select(Course).where(Course.patient_id == patient_id)).all())
    return max((p.improvement_pct for p in prior_courses(session, patient, earlier, None)), default=None)


def protocol_of(protocol_id: str) -> Protocol:
    try:
        return protocols.get(protocol_id)
    except RuleInputError:
        known = sorted(p.id for p in protocols.catalog())
        raise Unprocessable("protocol_id", f"unknown protocol {protocol_id!r}; known: {known}") from None


def _template(template_id: str) -> CourseTemplate:
    try:
        return get_course_template(template_id)
    except KeyError as exc:
        raise Unprocessable("template_id", str(exc.args[0])) from None


def _check_fit(protocol: Protocol, template: CourseTemplate) -> None:
    for phase in template.phases:
        per_day = 1 if isinstance(phase.rhythm, WeeklyRhythm) else phase.rhythm.per_day
        if per_day > protocol.sessions_per_day:
            raise Unprocessable("template_id", f"template {template.id} plans {per_day} sessions a day; protocol"
                                f" {protocol.id} allows {protocol.sessions_per_day}")
        gap = protocols.min_start_gap(protocol).total_seconds() / 60
        if isinstance(phase.rhythm, IntensiveRhythm) and protocol.min_interval_minutes is not None and \
                phase.rhythm.min_start_interval_minutes < gap:
            raise Unprocessable("template_id", f"template {template.id} spaces starts"
                                f" {phase.rhythm.min_start_interval_minutes} min apart; protocol {protocol.id}"
                                f" needs {gap:.0f} min ({protocol.min_interval_minutes} min after each session)")


def _check_retreatment(session: Session, data: CourseCreate, template: CourseTemplate) -> None:
    if data.kind != CourseKind.retreatment and template.requires_prior_response_pct is None:
        return
    needed = template.requires_prior_response_pct or RETREATMENT_MIN_RESPONSE_PCT
    response = prior_response_percent(session, data.patient_id)
    if response is None:
        raise Conflict(f"kind: retreatment needs a prior course response >{needed:g}%; no prior response is"
                       " recorded for this patient", code="retreatment_not_eligible")
    if response <= needed:
        raise Conflict(f"kind: retreatment needs a prior course response >{needed:g}%; the best prior response"
                       f" was {response:g}%", code="retreatment_not_eligible")


def _authorized(phases: tuple[PhaseTemplate, ...], given: list[PhaseAuthorization], field: str) -> dict[str, int]:
    names = [p.name for p in phases]
    out: dict[str, int] = {}
    for n, item in enumerate(given):
        if item.name not in names:
            raise Unprocessable(f"{field}[{n}].name", f"no phase {item.name!r} in this course; phases: {names}")
        out[item.name] = item.authorized_sessions
    return out


def order(session: Session, who: Principal, data: CourseCreate, now: datetime) -> Course:
    """Order a course for a patient of the caller's clinic, with its phases from the template."""
    patient = patients.get_or_404(session, who, data.patient_id)
    protocol = protocol_of(data.protocol_id)
    template = _template(data.template_id or protocol.course_template_id or "standard-36")
    _check_fit(protocol, template)
    if repository.of_patient(session, who.clinic_id, data.patient_id, OPEN):
        raise Conflict("patient_id: the patient already has an open course; complete or discontinue it first",
                       code="open_course_exists")
    _check_retreatment(session, data, template)
    authorized = _authorized(template.phases, data.phases, "phases")
    course = Course(**data.model_dump(exclude={"phases", "template_id", "criteria_set_id", "eligibility_exception",
                                               "override_id"}),
                    template_id=template.id, clinic_id=who.clinic_id, ordered_by=who.user_id, ordered_at=now,
                    created_at=now, updated_at=now)
    eligibility_gate.apply(session, who, patient, data, course, now)
    check = dose_gate.run(course, course.intensity_pct_mt)
    if data.override_id is not None:
        course.dose_override_id = _patient_override(session, who, data.override_id, course, check).id
    verdict = dose_gate.require(session, course, check)
    session.add(course)
    session.flush()
    _flag_override(session, course, verdict, now)
    for position, phase in enumerate(template.phases):
        session.add(CoursePhase(course_id=course.id or 0, position=position, name=phase.name, kind=phase.kind,
                                planned_sessions=phase.sessions, authorized_sessions=authorized.get(phase.name),
                                rhythm=phase.rhythm.model_dump(mode="json")))
    session.flush()
    audit.record(session, who.actor, at=now, action="create", entity=ENTITY, entity_id=course.id,
                 patient_id=patient.id, new=snapshot(session, course))
    return course


def _patient_override(session: Session, who: Principal, override_id: int, course: Course,
                      check: dose_gate.dose_check.DoseCheck) -> ProtocolOverride:
    """The override an order names: this patient's, not yet any course's, of exactly the prescribed parameters."""
    row = session.get(ProtocolOverride, override_id)
    if row is None or row.clinic_id != who.clinic_id or row.patient_id != course.patient_id:
        raise Unprocessable("override_id", f"override {override_id} is not a signed override for this patient")
    if row.course_id is not None:
        raise Unprocessable("override_id", f"override {override_id} was signed for course {row.course_id}")
    if check.within_table:
        raise Unprocessable("override_id", "the prescription lies within the safety table: no override is needed")
    if row.parameters_sha256 != params_sha256(check.params):
        raise Unprocessable("override_id", f"override {override_id} signs other parameters than this prescription")
    taken = session.exec(select(Course.id).where(Course.dose_override_id == override_id)).first()
    if taken is not None:
        raise Unprocessable("override_id", f"override {override_id} was already used to order course {taken}")
    return row


def _flag_override(session: Session, course: Course, verdict: dose_gate.Verdict, now: datetime) -> None:
    """A dose outside the table, accepted by a signed override, goes to the psychiatrists' review queue."""
    o = verdict.override
    if o is None:
        return
    raise_flag(session, clinic_id=course.clinic_id, key=f"dose_override:{course.id}:{o.id}:{course.version}",
               kind=FlagKind.dose_override, patient_id=course.patient_id, course_id=course.id, now=now,
               message=f"Course {course.id} doses outside the safety table at {course.intensity_pct_mt:g}% "
                       f"under override {o.id} signed by {o.printed_name}: "
                       f"{dose_gate.dose_check.describe(verdict.check.violations)}")


def get_or_404(session: Session, who: Principal, course_id: int) -> Course:
    course = repository.get(session, who.clinic_id, course_id)
    if course is None:
        raise NotFound(f"course {course_id} not found")
    return course


def read(session: Session, who: Principal, course_id: int, now: datetime) -> Course:
    """A course of the caller's clinic (404 otherwise); the read is audited."""
    course = get_or_404(session, who, course_id)
    audit.record(session, who.actor, at=now, action="read", entity=ENTITY, entity_id=course.id,
                 patient_id=course.patient_id)
    return course


def listing(session: Session, who: Principal, now: datetime, *, patient_id: int | None,
            status: CourseStatus | None, limit: int, offset: int) -> list[Course]:
    """The clinic's courses (or one patient's), newest first; the listing is audited."""
    wanted = status.value if status else None
    if patient_id is not None:
        rows = [c for c in repository.of_patient(session, who.clinic_id, patient_id)
                if wanted is None or c.status == wanted][offset:offset + limit]
    else:
        rows = repository.in_clinic(session, who.clinic_id, status=wanted, limit=limit, offset=offset)
    audit.record(session, who.actor, at=now, action="list", entity=ENTITY,
                 new={"patient_id": patient_id, "returned": [c.id for c in rows]})
    return rows


def phase_templates(session: Session, course: Course) -> tuple[PhaseTemplate, ...]:
    """The course's phases as the pure planner's phase templates."""
    return tuple(PhaseTemplate.model_validate({"name": p.name, "kind": p.kind, "sessions": p.planned_sessions,
                                               "rhythm": p.rhythm})
                 for p in repository.phases(session, course.id or 0))


def snapshot(session: Session, course: Course) -> dict[str, Any]:
    phases = [{"name": p.name, "planned": p.planned_sessions, "authorized": p.authorized_sessions}
              for p in repository.phases(session, course.id or 0)]
    return course.model_dump(exclude={"created_at", "updated_at", "ordered_at"}) | {"phases": phases}


def public(session: Session, course: Course) -> dict[str, Any]:
    """The course as the API shows it: phases and bookings by status."""
    phases = repository.phases(session, course.id or 0)
    replaced = [p for p in repository.phases(session, course.id or 0, include_replaced=True) if p.replaced_at]
    return course.model_dump() | {
        "phases": [p.model_dump() for p in phases],
        "replaced_phases": [p.model_dump() for p in replaced],
        "planned_sessions": sum(p.planned_sessions for p in phases),
        "sessions": repository.booking_counts(session, course.id or 0),
        "dose_check": _dose_public(session, course),
    }


def _dose_public(session: Session, course: Course) -> dict[str, Any] | None:
    verdict = dose_gate.verdict_or_none(session, course)
    return None if verdict is None else verdict.public()


def amend(session: Session, who: Principal, course_id: int, data: CourseAmend, now: datetime) -> Course:
    """Change a course's prescription, window, start or authorized counts, with a reason; version goes up."""
    course = get_or_404(session, who, course_id)
    if course.status not in OPEN:
        raise Conflict(f"status: a {course.status} course cannot be amended", code="course_closed")
    before = snapshot(session, course)
    changes = data.model_dump(exclude_unset=True, exclude={"reason", "phases"})
    for name, value in changes.items():
        setattr(course, name, value)
    if course.window_start is not None and course.window_end is not None and course.window_start >= course.window_end:
        raise Unprocessable("window_start", "must be before window_end")
    verdict = dose_gate.require(session, course, dose_gate.run(course, course.intensity_pct_mt))
    if data.phases is not None:
        rows = repository.phases(session, course.id or 0)
        authorized = _authorized(phase_templates(session, course), data.phases, "phases")
        for row in rows:
            row.authorized_sessions = authorized.get(row.name, row.authorized_sessions)
            session.add(row)
    saved = save_change(session, who, course, before, "amend", data.reason, now)
    _flag_override(session, saved, verdict, now)
    return saved


def save_change(session: Session, who: Principal, course: Course, before: dict[str, Any], action: str,
                reason: str, now: datetime) -> Course:
    """Audit what changed since ``before`` (a :func:`snapshot`) with the reason; the version goes up."""
    session.flush()
    old, new = audit.changed_fields(before, snapshot(session, course))
    if not new:
        raise Unprocessable("body", "the change changes nothing: every value equals the current one")
    course.version += 1
    course.updated_at = now
    session.add(course)
    session.flush()
    audit.record(session, who.actor, at=now, action=action, entity=ENTITY, entity_id=course.id,
                 patient_id=course.patient_id, old=old, new=new | {"version": course.version}, reason=reason)
    return course


def change_status(session: Session, who: Principal, course_id: int, status: CourseStatus, reason: str,
                  now: datetime) -> Course:
    """Move a course along its life cycle; completing or discontinuing it cancels its future bookings."""
    course = get_or_404(session, who, course_id)
    current = CourseStatus(course.status)
    if status not in TRANSITIONS[current]:
        allowed = sorted(s.value for s in TRANSITIONS[current]) or ["none"]
        raise Conflict(f"status: a {current.value} course cannot become {status.value}; allowed: {allowed}",
                       code="bad_transition")
    before = snapshot(session, course)
    course.status, course.status_reason = status.value, reason
    if status in (CourseStatus.completed, CourseStatus.discontinued):
        course.end_date = now.date()
        _cancel_future(session, who, course, f"course {status.value}: {reason}", now)
    return save_change(session, who, course, before, "status", reason, now)


def _cancel_future(session: Session, who: Principal, course: Course, reason: str, now: datetime) -> None:
    for booking in repository.bookings_of(session, course.id or 0, (BookingStatus.booked.value,)):
        if as_utc(booking.start_at) < now:
            continue  # a past booking is the missed-session sweep's to judge, not cancelled silently
        booking.status, booking.status_reason = BookingStatus.cancelled.value, reason
        booking.version += 1
        booking.updated_at = now
        session.add(booking)
        audit.record(session, who.actor, at=now, action="cancel", entity="booking", entity_id=booking.id,
                     patient_id=booking.patient_id, old={"status": BookingStatus.booked.value},
                     new={"status": BookingStatus.cancelled.value}, reason=reason)
