"""Gaps in a course: too many business days without a session flag the course for review and make MT stale.

No guideline defines a maximum gap (docs/clinical-rules.md#missed-sessions-and-gaps); the thresholds
are configurable design suggestions from there: review after N business days (default 3-5), MT
re-check after a gap of about 7 days (docs/clinical-rules.md#mt-redetermination).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from config.course_templates import PhaseTemplate, WeeklyRhythm
from schedules.calendar import ClinicCalendar, weekday_hours
from schedules.rhythm import phase_days

# A plain Monday-to-Friday calendar without holidays, to measure a rhythm's own spacing.
_PLAIN_WEEK = ClinicCalendar("UTC", weekday_hours(time(8), time(18)), country=None)
_REFERENCE_MONDAY = date(2001, 1, 1)


@dataclass(frozen=True)
class GapPolicy:
    """When a gap needs review (business days) and when it makes the motor threshold stale (calendar days)."""

    max_business_days: int = 3
    mt_stale_calendar_days: int = 7


@dataclass(frozen=True)
class Gap:
    """Business days without a session between two session days (or from the last one until today)."""

    after: date
    until: date
    business_days: int
    calendar_days: int
    needs_review: bool
    mt_stale: bool
    ongoing: bool


def nominal_gap_business_days(phase: PhaseTemplate) -> int:
    """The most business days the phase's own rhythm leaves between sessions (0 for daily rhythms)."""
    if not isinstance(phase.rhythm, WeeklyRhythm):
        return 0
    days, _ = phase_days(phase, _PLAIN_WEEK, _REFERENCE_MONDAY)
    known = sorted({d for d in days if d is not None})
    return max((_PLAIN_WEEK.business_days_between(a, b) for a, b in zip(known, known[1:], strict=False)), default=0)


def find_gaps(
    session_days: Sequence[date],
    calendar: ClinicCalendar,
    policy: GapPolicy,
    today: date | None = None,
    allowance_business_days: int = 0,
) -> list[Gap]:
    """Gaps longer than the policy allows (plus the rhythm's own ``allowance``), oldest first.

    With ``today``, the open days strictly between the last session and today count as an ongoing gap
    (an end-of-day sweep that wants today counted passes the next day).
    """
    days = sorted(set(session_days))
    pairs = list(zip(days, days[1:], strict=False))
    if today is not None and days and today > days[-1]:
        pairs.append((days[-1], today))
    gaps = []
    for before, after in pairs:
        gap = _gap(before, after, calendar, policy, allowance_business_days, ongoing=after == today)
        if gap.needs_review or gap.mt_stale:
            gaps.append(gap)
    return gaps


def _gap(before: date, after: date, calendar: ClinicCalendar, policy: GapPolicy, allowance: int, ongoing: bool) -> Gap:
    business = calendar.business_days_between(before, after)
    calendar_days = (after - before).days
    return Gap(
        after=before,
        until=after,
        business_days=business,
        calendar_days=calendar_days,
        needs_review=business > policy.max_business_days + allowance,
        mt_stale=calendar_days > policy.mt_stale_calendar_days,
        ongoing=ongoing,
    )
