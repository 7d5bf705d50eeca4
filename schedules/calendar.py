"""The clinic calendar: opening hours per weekday, public holidays, closures, business-day arithmetic.

Dates of the calendar are local dates in the clinic's time zone; instants are UTC (docs/architecture.md#conventions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

# Search limit for "next open day": a calendar closed for longer than this is treated as closed for good.
MAX_SEARCH_DAYS = 400

_EMPTY_HOURS: Mapping[int, tuple[time, time]] = MappingProxyType({})
_EMPTY_CLOSURES: Mapping[date, str] = MappingProxyType({})


def weekday_hours(
    open_at: time, close_at: time, weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
) -> Mapping[int, tuple[time, time]]:
    """The same opening hours on each of the given weekdays (0 = Monday)."""
    return MappingProxyType({d: (open_at, close_at) for d in weekdays})


@lru_cache(maxsize=512)
def _holidays_of(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return MappingProxyType(dict(table.items()))


@dataclass(frozen=True)
class ClinicCalendar:
    """When a clinic is open. ``hours`` maps weekday (0 = Monday) to local (open, close); absent = closed."""

    timezone: str
    hours: Mapping[int, tuple[time, time]] = field(default_factory=lambda: _EMPTY_HOURS)
    country: str | None = "US"
    subdivision: str | None = None
    closures: Mapping[date, str] = field(default_factory=lambda: _EMPTY_CLOSURES)
    open_on_holidays: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # fail early on an unknown zone
        for weekday, (open_at, close_at) in self.hours.items():
            if not 0 <= weekday <= 6 or open_at >= close_at:
                raise ValueError(f"bad opening hours for weekday {weekday}: {open_at}-{close_at}")

    @property
    def zone(self) -> ZoneInfo:
        """The clinic's time zone."""
        return ZoneInfo(self.timezone)

    def holiday_name(self, day: date) -> str | None:
        """The public holiday the clinic observes on this day, if any."""
        if self.country is None:
            return None
        name = _holidays_of(self.country, self.subdivision, day.year).get(day)
        if name is None or name in self.open_on_holidays:
            return None
        return name

    def closed_reason(self, day: date) -> str | None:
        """Why the clinic is closed on this day (closure, holiday, weekday without hours), or None if open."""
        if day in self.closures:
            return f"clinic closure on {day}: {self.closures[day]}"
        holiday = self.holiday_name(day)
        if holiday is not None:
            return f"public holiday on {day}: {holiday}"
        if day.weekday() not in self.hours:
            return f"clinic closed on {day:%A}s ({day})"
        return None

    def is_open(self, day: date) -> bool:
        """True when the clinic is open on this local date."""
        return self.closed_reason(day) is None

    def to_utc(self, day: date, at: time) -> datetime:
        """The UTC instant of a local wall-clock time on a local date."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def local_date(self, instant: datetime) -> date:
        """The clinic-local date of a UTC (aware) instant."""
        return instant.astimezone(self.zone).date()

    def local_time(self, instant: datetime) -> time:
        """The clinic-local wall-clock time of an aware instant."""
        return instant.astimezone(self.zone).time().replace(tzinfo=None)

    def opening_utc(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening hours of a day as a UTC half-open interval, or None when closed."""
        if not self.is_open(day):
            return None
        open_at, close_at = self.hours[day.weekday()]
        return self.to_utc(day, open_at), self.to_utc(day, close_at)

    def next_open_day(self, day: date, weekdays: tuple[int, ...] | None = None) -> date | None:
        """The first open day on or after ``day`` (optionally only on these weekdays), or None."""
        for offset in range(MAX_SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if (weekdays is None or candidate.weekday() in weekdays) and self.is_open(candidate):
                return candidate
        return None

    def business_days_between(self, start: date, end: date) -> int:
        """Open days strictly after ``start`` and strictly before ``end`` (0 when adjacent or reversed)."""
        return sum(1 for n in range(1, (end - start).days) if self.is_open(start + timedelta(days=n)))

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th open day after ``day`` (count >= 0; 0 returns ``day``)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        current = day
        for _ in range(count):
            found = self.next_open_day(current + timedelta(days=1))
            if found is None:
                raise ValueError(f"no open day within {MAX_SEARCH_DAYS} days after {current}")
            current = found
        return current
