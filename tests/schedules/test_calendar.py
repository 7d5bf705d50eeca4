"""The clinic calendar: holidays (country + subdivision), closures, business days, UTC conversion."""

from __future__ import annotations

from datetime import date, time

import pytest

from schedules.calendar import ClinicCalendar, weekday_hours
from tests.builders.schedules import TZ, clinic, utc


def test_us_christmas_and_new_year_are_closed() -> None:
    cal = clinic()
    assert "Christmas" in (cal.closed_reason(date(2025, 12, 25)) or "")
    assert "New Year" in (cal.closed_reason(date(2026, 1, 1)) or "")
    assert cal.is_open(date(2025, 12, 24)) and cal.is_open(date(2026, 1, 2))


def test_subdivision_holiday_only_in_that_subdivision() -> None:
    patriots_day = date(2026, 4, 20)
    assert not clinic("MA").is_open(patriots_day)
    assert clinic("NY").is_open(patriots_day)


def test_observed_holiday_follows_the_subdivision() -> None:
    # 2021-12-25 was a Saturday: federal and New York observe it on Friday the 24th; the holidays
    # package does not move Saturday holidays for Massachusetts, so an MA clinic is open that Friday
    assert "observed" in (clinic(None).closed_reason(date(2021, 12, 24)) or "")
    assert "observed" in (clinic("NY").closed_reason(date(2021, 12, 24)) or "")
    assert clinic("MA").is_open(date(2021, 12, 24))


def test_closures_and_weekends_say_why() -> None:
    cal = clinic(closures={date(2025, 11, 12): "flood"})
    assert cal.closed_reason(date(2025, 11, 12)) == "clinic closure on 2025-11-12: flood"
    assert "Saturday" in (cal.closed_reason(date(2025, 11, 15)) or "")
    assert cal.closed_reason(date(2025, 11, 13)) is None


def test_clinic_can_stay_open_on_a_listed_holiday() -> None:
    columbus = date(2025, 10, 13)
    assert not clinic().is_open(columbus)
    assert clinic(open_on_holidays=frozenset({"Columbus Day"})).is_open(columbus)


def test_business_day_arithmetic_skips_weekends_and_holidays() -> None:
    cal = clinic()
    # Wed 24 Dec 2025 + 1 business day skips Christmas (Thu) -> Fri 26
    assert cal.add_business_days(date(2025, 12, 24), 1) == date(2025, 12, 26)
    assert cal.add_business_days(date(2025, 12, 31), 1) == date(2026, 1, 2)
    assert cal.add_business_days(date(2025, 12, 31), 0) == date(2025, 12, 31)
    # open days strictly between Fri 19 Dec and Fri 2 Jan: 22,23,24,26,29,30,31
    assert cal.business_days_between(date(2025, 12, 19), date(2026, 1, 2)) == 7
    assert cal.business_days_between(date(2026, 1, 2), date(2025, 12, 19)) == 0
    with pytest.raises(ValueError):
        cal.add_business_days(date(2025, 12, 31), -1)


def test_local_wall_clock_becomes_utc_across_dst() -> None:
    cal = clinic()
    assert cal.to_utc(date(2025, 7, 1), time(9)) == utc(2025, 7, 1, 13)
    assert cal.to_utc(date(2025, 12, 1), time(9)) == utc(2025, 12, 1, 14)
    assert cal.local_date(utc(2025, 12, 2, 3)) == date(2025, 12, 1)
    assert cal.opening_utc(date(2025, 12, 1)) == (utc(2025, 12, 1, 13), utc(2025, 12, 1, 23))
    assert cal.opening_utc(date(2025, 12, 25)) is None


def test_saturday_hours_make_saturday_open() -> None:
    hours = dict(weekday_hours(time(8), time(18)))
    hours[5] = (time(9), time(13))
    cal = ClinicCalendar(TZ, hours, "US", "MA")
    assert cal.is_open(date(2025, 11, 15))


def test_a_calendar_never_open_finds_no_day() -> None:
    cal = ClinicCalendar(TZ, {}, None)
    assert cal.next_open_day(date(2025, 1, 1)) is None


def test_bad_hours_and_zones_are_refused() -> None:
    with pytest.raises(ValueError):
        ClinicCalendar(TZ, {0: (time(18), time(8))})
    with pytest.raises(Exception):  # noqa: B017 - zoneinfo raises its own error type
        ClinicCalendar("Mars/Olympus")
