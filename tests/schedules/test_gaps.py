"""Gap detection: review after N business days, MT stale after about a week."""

from __future__ import annotations

from datetime import date

from config.course_templates import get_course_template
from schedules.gaps import GapPolicy, find_gaps, nominal_gap_business_days
from tests.builders.schedules import clinic

CAL = clinic()


def test_daily_course_without_gaps_has_none() -> None:
    days = [date(2025, 11, 17), date(2025, 11, 18), date(2025, 11, 21), date(2025, 11, 24)]
    assert find_gaps(days, CAL, GapPolicy(max_business_days=3)) == []


def test_gap_longer_than_n_business_days_is_flagged() -> None:
    days = [date(2025, 11, 17), date(2025, 11, 24)]  # 18,19,20,21 = 4 business days
    (gap,) = find_gaps(days, CAL, GapPolicy(max_business_days=3))
    assert (gap.after, gap.until, gap.business_days, gap.calendar_days) == (days[0], days[1], 4, 7)
    assert gap.needs_review and not gap.mt_stale and not gap.ongoing
    assert find_gaps(days, CAL, GapPolicy(max_business_days=4)) == []


def test_holidays_do_not_count_as_business_days() -> None:
    days = [date(2025, 12, 23), date(2026, 1, 2)]  # 24, 26, 29, 30, 31 open; 25 and 1 Jan closed
    (gap,) = find_gaps(days, CAL, GapPolicy(max_business_days=4))
    assert gap.business_days == 5 and gap.mt_stale


def test_ongoing_gap_until_today_makes_mt_stale() -> None:
    (gap,) = find_gaps([date(2025, 11, 3)], CAL, GapPolicy(max_business_days=5), today=date(2025, 11, 12))
    assert gap.ongoing and gap.mt_stale and gap.business_days == 5 and not gap.needs_review
    assert find_gaps([date(2025, 11, 3)], CAL, GapPolicy(), today=date(2025, 11, 4)) == []


def test_taper_rhythm_gaps_are_allowed_for_by_the_allowance() -> None:
    taper = get_course_template("standard-36").phases[1]
    allowance = nominal_gap_business_days(taper)
    assert allowance == 2
    days = [date(2026, 1, 5), date(2026, 1, 9)]  # Mon -> Fri: 3 business days, normal in a taper
    assert find_gaps(days, CAL, GapPolicy(max_business_days=1), allowance_business_days=allowance) == []
    assert find_gaps(days, CAL, GapPolicy(max_business_days=1)) != []


def test_daily_rhythm_has_no_allowance() -> None:
    assert nominal_gap_business_days(get_course_template("standard-36").phases[0]) == 0
    assert nominal_gap_business_days(get_course_template("maintenance-oreardon").phases[0]) > 10
