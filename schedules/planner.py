"""Plan a course into a clinic, and re-plan a missed session (pure functions, injectable ``today``).

Missed sessions go to the end of their phase, the clinic convention of adding missed sessions at the
end (docs/clinical-rules.md#missed-sessions-and-gaps); later phases move after it. Authorization
limits are checked before the session happens, so a re-plan that crosses the authorization end or
count is warned about at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from config.course_templates import IntensiveRhythm, PhaseTemplate, WeeklyRhythm
from schedules.calendar import ClinicCalendar
from schedules.intervals import BusyIndex
from schedules.plan import (
    AUTHORIZATION_END,
    AUTHORIZATION_UNITS,
    CALENDAR,
    PlannedSession,
    PlanRequest,
    PlanResult,
    Unplaced,
    reason,
)
from schedules.resources import HeldBooking, Resources
from schedules.rhythm import WantedSession, expand_phases, next_rhythm_day
from schedules.slots import Placer

# How many rhythm days after the phase end a make-up session may try before it is reported unplaced.
MAKEUP_TRIES = 10


@dataclass(frozen=True)
class ReplanResult:
    """The course's new plan after a missed session, and which session indices changed time."""

    result: PlanResult
    makeup: PlannedSession | None
    changed: tuple[int, ...]


def plan_course(
    request: PlanRequest,
    calendar: ClinicCalendar,
    resources: Resources,
    existing: Sequence[HeldBooking] | BusyIndex,
    today: date,
) -> PlanResult:
    """Place every session of the request; each one not placed is listed with the constraints that stopped it."""
    start, warnings = _start_day(request, today)
    rhythm = expand_phases(request.phases, calendar, start, request.first_index)
    units = request.authorization.units_used if request.authorization else 0
    placer = Placer(request, calendar, resources, _index(existing), today, units)
    placer.prefetch(rhythm.wanted)
    placed, unplaced = _place_all(placer, rhythm.wanted)
    warnings += list(rhythm.warnings) + authorization_warnings(unplaced)
    return PlanResult(tuple(placed), tuple(unplaced), tuple(warnings))


def replan_missed(
    request: PlanRequest,
    plan: PlanResult,
    missed_index: int,
    calendar: ClinicCalendar,
    resources: Resources,
    existing: Sequence[HeldBooking] | BusyIndex,
    today: date,
) -> ReplanResult:
    """Move a missed session to the end of its phase and later phases after it, or warn what no longer fits.

    ``existing`` holds the clinic's other bookings, not this course's planned sessions (the plan supplies them).
    """
    missed = next((s for s in plan.placed if s.index == missed_index), None)
    if missed is None:
        raise ValueError(f"session {missed_index} is not a placed session of this plan")
    units = request.authorization.units_used if request.authorization else 0
    placer = Placer(request, calendar, resources, _index(existing), today, units)
    kept = [
        s for s in plan.placed if s.index != missed_index and (s.phase_index <= missed.phase_index or s.day < today)
    ]
    for session in sorted(kept, key=lambda s: s.start):
        placer.hold(session)
    makeup = _place_makeup(placer, request, calendar, missed, today)
    later = _place_later_phases(placer, request, calendar, missed.phase_index, _resume_day(placer, missed, today))
    carried = [u for u in plan.unplaced if request.phase_of(u.index) <= missed.phase_index]
    placed = kept + ([makeup] if isinstance(makeup, PlannedSession) else []) + later[0]
    unplaced = carried + ([makeup] if isinstance(makeup, Unplaced) else []) + later[1]
    warnings = authorization_warnings(unplaced, cause=f"re-planning missed session {missed_index}")
    result = PlanResult(
        tuple(sorted(placed, key=lambda s: s.start)),
        tuple(sorted(unplaced, key=lambda u: u.index)),
        tuple(warnings + later[2]),
    )
    before = {s.index: s.start for s in plan.placed}
    changed = tuple(sorted(s.index for s in result.placed if before.get(s.index) != s.start))
    return ReplanResult(result, makeup if isinstance(makeup, PlannedSession) else None, changed)


def authorization_warnings(unplaced: Sequence[Unplaced], cause: str = "the plan") -> list[str]:
    """Warnings naming the sessions that fall past the authorization end date or unit count."""
    warnings = []
    for code, what in (
        (AUTHORIZATION_END, "past the authorization end date"),
        (AUTHORIZATION_UNITS, "beyond the authorized units"),
    ):
        hit = [u.index for u in unplaced if code in u.codes]
        if hit:
            warnings.append(f"{cause} puts {len(hit)} session(s) {what}: {hit}")
    return warnings


def _start_day(request: PlanRequest, today: date) -> tuple[date, list[str]]:
    start = max(request.start_date, today)
    auth = request.authorization
    if auth is not None and start < auth.start:
        return auth.start, [f"course start moved from {start} to the authorization start {auth.start}"]
    return start, []


def _index(existing: Sequence[HeldBooking] | BusyIndex) -> BusyIndex:
    return existing if isinstance(existing, BusyIndex) else BusyIndex.from_bookings(existing)


def _place_all(placer: Placer, wanted: Sequence[WantedSession]) -> tuple[list[PlannedSession], list[Unplaced]]:
    placed: list[PlannedSession] = []
    unplaced: list[Unplaced] = []
    for session in wanted:
        outcome = placer.place(session)
        if isinstance(outcome, PlannedSession):
            placed.append(outcome)
        else:
            unplaced.append(outcome)
    return placed, unplaced


def _place_makeup(
    placer: Placer, request: PlanRequest, calendar: ClinicCalendar, missed: PlannedSession, today: date
) -> PlannedSession | Unplaced:
    """Try the rhythm days after the phase's last session; the first refusal explains an overall failure."""
    phase = request.phases[missed.phase_index]
    in_phase = [s for s in placer.placed if s.phase_index == missed.phase_index]
    after = max([s.day for s in in_phase] + [missed.day])
    # the missed session used its day: a make-up never lands later on the day the patient did not come
    used = sum(1 for s in in_phase if s.day == after) + (missed.day == after)
    first: Unplaced | None = None
    for day in _makeup_days(phase, calendar, after, used, today):
        slot = used if day == after else 0
        outcome = placer.place(_makeup_wanted(missed, phase, day, slot))
        if isinstance(outcome, PlannedSession) or _final(outcome):
            return outcome
        first = first or outcome
    return first or Unplaced(
        missed.index, missed.phase_name, after, (reason(CALENDAR, "no open clinic day for a make-up session"),)
    )


def _makeup_days(phase: PhaseTemplate, calendar: ClinicCalendar, after: date, used: int, today: date) -> Iterator[date]:
    """Candidate make-up days: the phase's next rhythm day (not before today), then each open day after."""
    day = next_rhythm_day(phase, calendar, after, used)
    if day is not None and day < today:
        day = calendar.next_open_day(today, phase.rhythm.weekdays)
    for _ in range(MAKEUP_TRIES):
        if day is None:
            return
        yield day
        day = calendar.next_open_day(day + timedelta(days=1), phase.rhythm.weekdays)


def _makeup_wanted(missed: PlannedSession, phase: PhaseTemplate, day: date, slot: int) -> WantedSession:
    rhythm = phase.rhythm
    per_day = 1 if isinstance(rhythm, WeeklyRhythm) else rhythm.per_day
    interval = rhythm.min_start_interval_minutes if isinstance(rhythm, IntensiveRhythm) else 0
    return WantedSession(
        missed.index, missed.phase_index, missed.phase_name, missed.phase_kind, day, slot, per_day, interval
    )


def _final(outcome: Unplaced) -> bool:
    """True when trying a later day cannot help (the authorization has run out)."""
    return AUTHORIZATION_END in outcome.codes or AUTHORIZATION_UNITS in outcome.codes


def _resume_day(placer: Placer, missed: PlannedSession, today: date) -> date:
    days = [s.day for s in placer.placed if s.phase_index <= missed.phase_index]
    return max([today - timedelta(days=1), missed.day, *days]) + timedelta(days=1)


def _place_later_phases(
    placer: Placer, request: PlanRequest, calendar: ClinicCalendar, phase_index: int, start: date
) -> tuple[list[PlannedSession], list[Unplaced], list[str]]:
    phases = request.phases[phase_index + 1 :]
    first = request.first_index + sum(p.sessions for p in request.phases[: phase_index + 1])
    rhythm = expand_phases(phases, calendar, start, first)
    wanted = [replace(w, phase_index=w.phase_index + phase_index + 1) for w in rhythm.wanted]
    placed, unplaced = _place_all(placer, wanted)
    return placed, unplaced, list(rhythm.warnings)
