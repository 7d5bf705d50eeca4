"""Extend a live course under its template's rule (Noridian A57598; docs/clinical-rules.md#medicare-extension).

A course on the ``medicare-20`` template is 20 daily sessions and a 5-session taper. When the PHQ-9 taken at
about session 20 shows an improvement of at least 25% from the course baseline, the payer allows 10 more
daily sessions and a 6-session taper instead. Applying it is the psychiatrist's decision: the rule is read
from the stored scores (never typed in), the replaced taper stays on the course marked as replaced, its
future bookings are cancelled with the reason, and the extension's sessions are planned and booked after
the last session the course still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from config.course_templates import CourseTemplate, ExtensionRule, get_course_template
from service.assessments import repository as assessments
from service.auth.principal import Principal
from service.bookings import planning
from service.bookings import service as bookings
from service.bookings.schemas import ExtensionBody
from service.calendar import service as calendar
from service.core.clock import as_utc
from service.core.errors import Conflict, Unprocessable
from service.courses import repository as course_repo
from service.courses import service as courses
from service.models.bookings import DELIVERED, RELEASED, BookingStatus
from service.models.courses import Course, CoursePhase, CourseStatus

INSTRUMENT = "PHQ-9"  # the scale the payer's rule reads


@dataclass
class Evaluation:
    course: Course
    template: CourseTemplate
    rule: ExtensionRule
    assessment_id: int | None = None
    administered_at: datetime | None = None
    at_session: int | None = None
    improvement_pct: float | None = None
    reasons: tuple[str, ...] = ()

    @property
    def applies(self) -> bool:
        return not self.reasons

    def public(self) -> dict[str, Any]:
        return {
            "course_id": self.course.id, "template_id": self.template.id,
            "min_improvement_pct": self.rule.min_improvement_pct,
            "evaluate_at_session": self.rule.evaluate_at_session,
            "tolerance_sessions": self.rule.evaluation_tolerance_sessions,
            "assessment_id": self.assessment_id, "administered_at": self.administered_at,
            "at_session": self.at_session, "improvement_pct": self.improvement_pct,
            "replaces": _replaced_names(self.template), "adds": [p.name for p in self.rule.phases],
            "applies": self.applies, "reasons": list(self.reasons),
        }


def _replaced_names(template: CourseTemplate) -> list[str]:
    assert template.extension is not None
    names = [p.name for p in template.phases]
    return names[names.index(template.extension.replaces_from_phase):]


def evaluate(session: Session, who: Principal, course_id: int) -> Evaluation:
    """Read the course's extension rule against its stored PHQ-9 scores and delivered sessions."""
    course = courses.get_or_404(session, who, course_id)
    template = get_course_template(course.template_id)
    if template.extension is None:
        raise Conflict(f"course_id: course {course_id} follows template {template.id}, which has no extension rule",
                       code="no_extension_rule")
    rule = template.extension
    reasons: list[str] = []
    if course.status != CourseStatus.active.value:
        reasons.append(f"status: the course is {course.status}; only an active course is extended")
    phase_names = {p.name for p in course_repo.phases(session, course_id)}
    if phase_names & {p.name for p in rule.phases}:
        reasons.append("phases: the course is already extended")
    scored = [a for a in assessments.for_patient(session, course.clinic_id, course.patient_id,
                                                 instrument=INSTRUMENT, course_id=course_id)
              if a.percent_change is not None]
    ev = Evaluation(course, template, rule)
    if not scored:
        reasons.append(f"assessment: no {INSTRUMENT} with a course baseline is recorded for this course")
        ev.reasons = tuple(reasons)
        return ev
    latest = scored[-1]
    taken = as_utc(latest.administered_at)
    delivered = [b for b in course_repo.bookings_of(session, course_id, DELIVERED)
                 if as_utc(b.start_at) <= taken]
    ev.assessment_id, ev.administered_at, ev.at_session = latest.id, taken, len(delivered)
    ev.improvement_pct = round(-(latest.percent_change or 0.0), 1)  # a PHQ-9 falls as the patient improves
    low, high = rule.evaluate_at_session - rule.evaluation_tolerance_sessions, \
        rule.evaluate_at_session + rule.evaluation_tolerance_sessions
    if not low <= ev.at_session <= high:
        reasons.append(f"assessment: the latest {INSTRUMENT} was taken after {ev.at_session} delivered sessions;"
                       f" the rule reads it at session {low}-{high}")
    if ev.improvement_pct < rule.min_improvement_pct:
        reasons.append(f"improvement: {ev.improvement_pct:g}% from baseline is below the rule's"
                       f" {rule.min_improvement_pct:g}%")
    ev.reasons = tuple(reasons)
    return ev


def extend(session: Session, who: Principal, course_id: int, body: ExtensionBody,
           now: datetime) -> tuple[Evaluation, planning.Outcome]:
    """Replace the course's tail with its extension phases and book them (or show the plan, on a dry run)."""
    ev = evaluate(session, who, course_id)
    if not ev.applies:
        raise Conflict(f"course_id: the extension does not apply: {'; '.join(ev.reasons)}",
                       code="extension_not_indicated")
    course = bookings.open_course(session, who, course_id)
    new_phases = ev.rule.phases
    authorized = _authorized(body, [p.name for p in new_phases])
    all_rows = course_repo.phases(session, course_id)
    replaced_names = set(_replaced_names(ev.template))
    kept = [p for p in all_rows if p.name not in replaced_names]
    first_index = sum(p.planned_sessions for p in kept) + 1
    cal = calendar.clinic_calendar(session, course.clinic_id)
    today = cal.local_date(now)
    rows = course_repo.bookings_of(session, course_id)
    to_cancel = [b for b in rows if b.phase_name in replaced_names and b.status == BookingStatus.booked.value
                 and as_utc(b.start_at) >= now]
    kept_days = [cal.local_date(as_utc(b.start_at)) for b in rows
                 if b.phase_name not in replaced_names and b.status not in RELEASED]
    start = max([today, *(d + timedelta(days=1) for d in kept_days)])
    before = courses.snapshot(session, course)
    if not body.dry_run:
        _replace_phases(session, who, course, all_rows, replaced_names, authorized, ev, body.reason, now)
        for booking in to_cancel:
            bookings.transition(session, who.actor, booking, BookingStatus.cancelled,
                                f"replaced by the course extension: {body.reason}", now)
        courses.save_change(session, who, course, before, "extend", body.reason, now)
    out = planning.plan_phases(session, who, course, new_phases, first_index, start, body.dry_run, now,
                               releasing=0 if not body.dry_run else len(to_cancel))
    out.cancelled = [b.id or 0 for b in to_cancel]
    return ev, out


def _authorized(body: ExtensionBody, names: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, item in enumerate(body.phases):
        if item.name not in names:
            raise Unprocessable(f"phases[{n}].name", f"the extension has no phase {item.name!r}; phases: {names}")
        out[item.name] = item.authorized_sessions
    return out


def _replace_phases(session: Session, who: Principal, course: Course, rows: list[CoursePhase],
                    replaced: set[str], authorized: dict[str, int], ev: Evaluation, reason: str,
                    now: datetime) -> None:
    why = (f"extension: {ev.improvement_pct:g}% {INSTRUMENT} improvement at session {ev.at_session}"
           f" (assessment {ev.assessment_id}); {reason}")
    for row in rows:
        if row.name in replaced:
            row.replaced_at, row.replaced_reason = now, why[:1000]
            session.add(row)
    position = max(p.position for p in course_repo.phases(session, course.id or 0, include_replaced=True)) + 1
    for n, phase in enumerate(ev.rule.phases):
        session.add(CoursePhase(course_id=course.id or 0, position=position + n, name=phase.name, kind=phase.kind,
                                planned_sessions=phase.sessions, authorized_sessions=authorized.get(phase.name),
                                rhythm=phase.rhythm.model_dump(mode="json")))
    session.flush()

