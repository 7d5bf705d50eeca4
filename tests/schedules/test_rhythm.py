"""Rhythm expansion: counts, weekdays, taper pattern across a year boundary and a holiday week."""

from __future__ import annotations

from collections import Counter
from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from config.course_templates import PhaseTemplate, WeeklyRhythm, get_course_template
from schedules.calendar import ClinicCalendar
from schedules.rhythm import expand_phases, next_rhythm_day
from tests.builders.schedules import clinic

# Mon 17 Nov 2025: the course runs over Thanksgiving, Christmas and New Year's Day.
START = date(2025, 11, 17)
HOLIDAYS = {date(2025, 11, 27), date(2025, 12, 25), date(2026, 1, 1)}


def days_of(template: str, start: date = START, improvement: float | None = None) -> list[date]:
    plan = expand_phases(get_course_template(template).phases_for(improvement), clinic(), start)
    return [w.day for w in plan.wanted]


def per_rolling_week(days: list[date], anchor: date) -> list[int]:
    weeks = Counter((d - anchor).days // 7 for d in days)
    return [weeks[n] for n in range(max(weeks) + 1)]


def test_standard_36_counts_weekdays_and_taper_over_the_holidays() -> None:
    days = days_of("standard-36")
    assert len(days) == 36
    assert all(d.weekday() < 5 for d in days) and not HOLIDAYS & set(days)
    acute, taper = days[:30], days[30:]
    assert len(set(acute)) == 30 and acute[-1] == date(2025, 12, 30)
    assert taper == [date(2025, 12, 31), date(2026, 1, 2), date(2026, 1, 5),
                     date(2026, 1, 7), date(2026, 1, 9), date(2026, 1, 14)]
    assert per_rolling_week(taper, taper[0]) == [3, 2, 1]
    assert all((b - a).days >= 2 for a, b in zip(taper, taper[1:], strict=False))


def test_daily_phase_uses_every_open_weekday_in_order() -> None:
    acute = days_of("standard-36")[:30]
    open_days = [START + timedelta(days=n) for n in range(60)]
    open_days = [d for d in open_days if d.weekday() < 5 and d not in HOLIDAYS]
    assert acute == open_days[:30]


def test_medicare_base_and_extended() -> None:
    base = days_of("medicare-20")
    assert len(base) == 25 and per_rolling_week(base[20:], base[20]) == [2, 2, 1]
    extended = expand_phases(get_course_template("medicare-20").phases_for(30.0), clinic(), START)
    kinds = Counter(w.phase_kind for w in extended.wanted)
    assert kinds == {"acute": 20, "extension": 10, "taper": 6}
    taper = [w.day for w in extended.wanted if w.phase_kind == "taper"]
    assert per_rolling_week(taper, taper[0]) == [3, 2, 1]


def test_deep_tms_twice_weekly_for_12_weeks_after_20_daily() -> None:
    days = days_of("deep-tms-h1")
    assert len(days) == 44 and len(set(days[:20])) == 20
    continuation = days[20:]
    assert per_rolling_week(continuation, continuation[0]) == [2] * 12
    assert all((b - a).days >= 3 for a, b in zip(continuation, continuation[1:], strict=False))
    assert all(d.weekday() < 5 for d in days) and not HOLIDAYS & set(days)


def test_accelerated_is_10_a_day_on_5_open_days_through_christmas() -> None:
    plan = expand_phases(get_course_template("accelerated-saint").phases, clinic(), date(2025, 12, 24))
    per_day = Counter(w.day for w in plan.wanted)
    assert sorted(per_day) == [date(2025, 12, 24), date(2025, 12, 26), date(2025, 12, 29),
                               date(2025, 12, 30), date(2025, 12, 31)]
    assert set(per_day.values()) == {10}
    assert [w.slot_in_day for w in plan.wanted[:10]] == list(range(10))
    assert all(w.min_start_interval_minutes == 60 for w in plan.wanted)  # 50 min after a ~10-min session


def test_weekly_week_without_enough_open_days_moves_sessions_on_with_a_warning() -> None:
    closed = {date(2026, 1, 6) + timedelta(days=n): "renovation" for n in range(4)}  # Tue-Fri closed
    phase = PhaseTemplate(name="taper", kind="taper", sessions=6,
                          rhythm=WeeklyRhythm(per_week=(3, 2, 1), min_days_between=2))
    plan = expand_phases([phase], clinic(closures=closed), date(2026, 1, 5))
    days = [w.day for w in plan.wanted]
    assert len(days) == 6 and not set(days) & set(closed)
    assert days[0] == date(2026, 1, 5) and days[1] >= date(2026, 1, 12)
    assert any("week 1 has 2 session(s) moved to the next week" in w for w in plan.warnings)


def test_indices_continue_from_first_index() -> None:
    plan = expand_phases(get_course_template("standard-36").phases, clinic(), START, first_index=11)
    assert [w.index for w in plan.wanted] == list(range(11, 47))


def test_closed_forever_leaves_a_note_for_every_session() -> None:
    saturdays_only = ClinicCalendar("America/New_York", {5: (time(9), time(12))}, None)
    plan = expand_phases(get_course_template("standard-36").phases, saturdays_only, START)
    assert len(plan.wanted) == 36 and all(w.note and w.note.startswith("calendar") for w in plan.wanted)


def test_next_rhythm_day_respects_spacing_and_daily_capacity() -> None:
    cal = clinic()
    taper = get_course_template("standard-36").phases[1]
    assert next_rhythm_day(taper, cal, date(2025, 12, 23), 1) == date(2025, 12, 26)  # +2 is Christmas
    accelerated = get_course_template("accelerated-saint").phases[0]
    assert next_rhythm_day(accelerated, cal, date(2025, 12, 24), 9) == date(2025, 12, 24)
    assert next_rhythm_day(accelerated, cal, date(2025, 12, 24), 10) == date(2025, 12, 26)


closure_days = st.sets(st.integers(0, 120), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    template=st.sampled_from(["standard-36", "medicare-20", "deep-tms-h1", "accelerated-saint"]),
    offset=st.integers(0, 60),
    closed=closure_days,
)
def test_any_closures_keep_the_count_and_only_use_open_days(template: str, offset: int, closed: set[int]) -> None:
    start = START + timedelta(days=offset)
    cal = clinic(closures={start + timedelta(days=n): "closed" for n in closed})
    plan = expand_phases(get_course_template(template).phases, cal, start)
    days = [w.day for w in plan.wanted]
    assert len(days) == get_course_template(template).total_sessions
    assert all(cal.is_open(d) for d in days)
    assert days == sorted(days) and days[0] >= start
