"""Expand a course's phases into the sequence of wanted session days.

Rhythms come from the template data (config/course_templates.json, sources cited there): daily on
weekdays (Perera 2016), weekly counts such as the 3/2/1 taper (BCBSM criteria) or twice weekly
(Levkovitz 2015), and intensive days (SAINT: 10 a day, Cole 2020). Closed days (holidays, closures)
are skipped and the session moves to the next open day, so the count is kept and the rhythm shifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from config.course_templates import DailyRhythm, IntensiveRhythm, PhaseTemplate, WeeklyRhythm
from schedules.calendar import MAX_SEARCH_DAYS, ClinicCalendar

# A weekly phase may run this many weeks past its template when holidays push sessions on.
MAX_CARRY_WEEKS = 8


@dataclass(frozen=True)
class WantedSession:
    """One session the course wants: its place in the course and the local day the rhythm puts it on."""

    index: int
    phase_index: int
    phase_name: str
    phase_kind: str
    day: date
    slot_in_day: int = 0
    per_day: int = 1
    min_start_interval_minutes: int = 0
    note: str | None = None  # set when the rhythm could not find a day; the planner reports it as unplaced


@dataclass(frozen=True)
class RhythmPlan:
    """The wanted sessions of a course, in order, with warnings about shifted rhythm."""

    wanted: tuple[WantedSession, ...]
    warnings: tuple[str, ...]


def expand_phases(
    phases: Sequence[PhaseTemplate], calendar: ClinicCalendar, start: date, first_index: int = 1
) -> RhythmPlan:
    """Wanted days for every session of every phase, each phase starting after the previous one ends."""
    wanted: list[WantedSession] = []
    warnings: list[str] = []
    cursor = start
    for phase_index, phase in enumerate(phases):
        days, notes = phase_days(phase, calendar, cursor)
        warnings.extend(notes)
        wanted.extend(_sessions(phase, phase_index, days, first_index + len(wanted), cursor))
        found = [d for d in days if d is not None]
        if found:
            cursor = max(found) + timedelta(days=1)
    return RhythmPlan(tuple(wanted), tuple(warnings))


def phase_days(phase: PhaseTemplate, calendar: ClinicCalendar, start: date) -> tuple[list[date | None], list[str]]:
    """The day of each session of one phase (None where no open day exists), and warnings."""
    rhythm = phase.rhythm
    if isinstance(rhythm, WeeklyRhythm):
        return _weekly_days(phase, rhythm, calendar, start)
    return _per_day_days(phase.sessions, rhythm, calendar, start), []


def _sessions(
    phase: PhaseTemplate, phase_index: int, days: list[date | None], first: int, fallback: date
) -> list[WantedSession]:
    per_day = 1 if isinstance(phase.rhythm, WeeklyRhythm) else phase.rhythm.per_day
    interval = phase.rhythm.min_start_interval_minutes if isinstance(phase.rhythm, IntensiveRhythm) else 0
    out: list[WantedSession] = []
    for n, day in enumerate(days):
        slot = sum(1 for d in days[:n] if d == day and d is not None)
        note = None if day is not None else f"calendar: no open clinic day within {MAX_SEARCH_DAYS} days"
        out.append(
            WantedSession(
                first + n, phase_index, phase.name, phase.kind, day or fallback, slot, per_day, interval, note
            )
        )
    return out


def _per_day_days(
    sessions: int, rhythm: DailyRhythm | IntensiveRhythm, calendar: ClinicCalendar, start: date
) -> list[date | None]:
    days: list[date | None] = []
    cursor: date | None = start
    while len(days) < sessions:
        day = calendar.next_open_day(cursor, rhythm.weekdays) if cursor is not None else None
        days.extend([day] * min(rhythm.per_day, sessions - len(days)))
        cursor = day + timedelta(days=1) if day is not None else None
    return days


def _weekly_days(
    phase: PhaseTemplate, rhythm: WeeklyRhythm, calendar: ClinicCalendar, start: date
) -> tuple[list[date | None], list[str]]:
    anchor = calendar.next_open_day(start, rhythm.weekdays)
    if anchor is None:
        return [None] * phase.sessions, []
    counts = rhythm.week_counts()
    days: list[date | None] = []
    warnings: list[str] = []
    carry = 0
    for week in range(len(counts) + MAX_CARRY_WEEKS):
        want = (counts[week] if week < len(counts) else 0) + carry
        if want == 0 and week >= len(counts):
            break
        last = days[-1] if days else None
        chosen, relaxed = pick_week_days(want, anchor + timedelta(days=7 * week), calendar, rhythm, last)
        days.extend(chosen)
        carry = want - len(chosen)
        if relaxed:
            warnings.append(f"{phase.name}: week {week + 1} sessions closer than {rhythm.min_days_between} days")
        if carry:
            warnings.append(f"{phase.name}: week {week + 1} has {carry} session(s) moved to the next week")
    return days + [None] * (phase.sessions - len(days)), warnings


def pick_week_days(
    count: int, week_start: date, calendar: ClinicCalendar, rhythm: WeeklyRhythm, last: date | None
) -> tuple[list[date], bool]:
    """Spread ``count`` sessions over the 7 days from ``week_start``; says whether spacing was relaxed."""
    open_days = [
        week_start + timedelta(days=n)
        for n in range(7)
        if (week_start + timedelta(days=n)).weekday() in rhythm.weekdays
        and calendar.is_open(week_start + timedelta(days=n))
    ]
    chosen: list[date] = []
    relaxed = False
    for i in range(count):
        ideal = week_start + timedelta(days=(i * 7) // count)
        previous = chosen[-1] if chosen else last
        later = [d for d in open_days if previous is None or d > previous]
        spaced = [d for d in later if previous is None or (d - previous).days >= rhythm.min_days_between]
        pool = spaced or later
        if not pool:
            break
        relaxed = relaxed or not spaced
        chosen.append(min(pool, key=lambda d: (abs((d - ideal).days), d)))
    return chosen, relaxed


def next_rhythm_day(phase: PhaseTemplate, calendar: ClinicCalendar, after: date, used_on_after: int) -> date | None:
    """The next day this phase's rhythm allows a session, given ``used_on_after`` sessions on day ``after``."""
    rhythm = phase.rhythm
    if isinstance(rhythm, WeeklyRhythm):
        return calendar.next_open_day(after + timedelta(days=rhythm.min_days_between), rhythm.weekdays)
    if used_on_after < rhythm.per_day and calendar.is_open(after) and after.weekday() in rhythm.weekdays:
        return after
    return calendar.next_open_day(after + timedelta(days=1), rhythm.weekdays)
