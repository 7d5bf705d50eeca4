"""plan_course: placement, constraints, and a reason for every session it cannot place."""

from __future__ import annotations

from collections import Counter
from datetime import date, time, timedelta

from schedules.calendar import ClinicCalendar
from schedules.intervals import BusyIndex
from schedules.plan import (
    AUTHORIZATION_END,
    AUTHORIZATION_UNITS,
    CALENDAR,
    CAPABILITY,
    INTERVAL,
    PATIENT_BUSY,
    SLOTS_TAKEN,
    TECHNICIAN_SHIFT,
    WINDOW,
    AuthorizationLimit,
    TimeWindow,
)
from schedules.planner import plan_course
from schedules.resources import ChairResource, Resources, TechnicianResource, weekly_shifts
from tests.builders.schedules import TODAY, as_bookings, booking, chairs, clinic, request, resources, technicians

CAL = clinic()


def local(cal: ClinicCalendar, instant: object) -> time:
    return cal.local_time(instant)  # type: ignore[arg-type]


def test_standard_course_in_an_empty_clinic_keeps_one_recurring_slot() -> None:
    result = plan_course(request(), CAL, resources(), [], TODAY)
    assert len(result.placed) == 36 and result.unplaced == () and result.warnings == ()
    assert {(s.chair_id, s.technician_id, local(CAL, s.start)) for s in result.placed} == {("c0", "t0", time(8))}
    assert all(s.end - s.start == timedelta(minutes=37 + 8) for s in result.placed)
    assert [s.index for s in result.placed] == list(range(1, 37))


def test_preferred_window_is_honoured() -> None:
    window = TimeWindow(time(14), time(16))
    result = plan_course(request(window=window), CAL, resources(), [], TODAY)
    assert len(result.placed) == 36
    for s in result.placed:
        assert time(14) <= local(CAL, s.start) and local(CAL, s.end) <= time(16)


def test_busy_chair_device_technician_and_patient_are_avoided() -> None:
    day = date(2025, 11, 17)
    start = CAL.to_utc(day, time(8))
    existing = [
        booking(start, 60, chair_id="c0", device_id="d9", technician_id="t9", patient_id="other"),
        booking(start, 60, chair_id="c9", device_id="d1", technician_id="t8", patient_id="other2"),
        booking(start, 60, chair_id="c8", device_id="d8", technician_id="t0", patient_id="other3"),
    ]
    three = Resources(chairs(3), technicians(2))
    # a window holding the 08:00 start alone: the planner would otherwise take 09:00, where all are free
    only_eight = request(window=TimeWindow(time(8), time(8, 45)))
    first = plan_course(only_eight, CAL, three, existing, TODAY).placed[0]
    assert (first.chair_id, first.technician_id, local(CAL, first.start)) == ("c2", "t1", time(8))
    existing.append(booking(start, 60, patient_id="p1"))
    first = plan_course(request(), CAL, three, existing, TODAY).placed[0]
    assert local(CAL, first.start) == time(9)


def test_no_capable_chair_is_named_for_every_session() -> None:
    result = plan_course(request(protocol="h1"), CAL, Resources(chairs(2, frozenset({"10hz"})), technicians(1)), [],
                         TODAY)
    assert result.placed == () and len(result.unplaced) == 36
    assert all(CAPABILITY in u.codes and "'h1'" in u.reasons[0] for u in result.unplaced)


def test_no_technician_on_shift_in_the_window() -> None:
    afternoon = Resources(chairs(2), (TechnicianResource("t0", weekly_shifts(time(13), time(18))),))
    result = plan_course(request(window=TimeWindow(time(8), time(12))), CAL, afternoon, [], TODAY)
    assert result.placed == () and all(u.codes == (TECHNICIAN_SHIFT,) for u in result.unplaced)


def test_technician_day_off_only_affects_that_day() -> None:
    off = TechnicianResource("t0", weekly_shifts(time(8), time(18)), frozenset({date(2025, 11, 19)}))
    result = plan_course(request(), CAL, Resources(chairs(1), (off,)), [], TODAY)
    assert [(u.wanted_date, u.codes) for u in result.unplaced] == [(date(2025, 11, 19), (TECHNICIAN_SHIFT,))]


def test_authorization_end_and_units_are_explained_and_warned() -> None:
    auth = AuthorizationLimit(date(2025, 11, 1), date(2025, 12, 31), units=33)
    result = plan_course(request(authorization=auth), CAL, resources(), [], TODAY)
    assert len(result.placed) == 31  # 30 acute + the taper session on Wed 31 Dec
    by_index = {u.index: u.codes for u in result.unplaced}
    assert set(by_index) == {32, 33, 34, 35, 36}
    assert all(AUTHORIZATION_END in codes for codes in by_index.values())
    assert any("past the authorization end date: [32, 33, 34, 35, 36]" in w for w in result.warnings)


def test_units_exhausted_counts_units_already_used() -> None:
    auth = AuthorizationLimit(date(2025, 11, 1), date(2026, 6, 30), units=36, units_used=30)
    result = plan_course(request(authorization=auth), CAL, resources(), [], TODAY)
    assert len(result.placed) == 6
    assert [u.index for u in result.unplaced] == list(range(7, 37))
    assert all(u.codes == (AUTHORIZATION_UNITS,) for u in result.unplaced)
    assert any("beyond the authorized units" in w for w in result.warnings)


def test_course_starting_before_the_authorization_moves_to_its_start() -> None:
    auth = AuthorizationLimit(date(2025, 11, 20), date(2026, 6, 30), units=36)
    result = plan_course(request(authorization=auth), CAL, resources(), [], TODAY)
    assert result.placed[0].day == date(2025, 11, 20) and len(result.placed) == 36
    assert any("authorization start" in w for w in result.warnings)


def test_all_slots_taken_names_the_busy_resources() -> None:
    day = date(2025, 11, 18)
    full = [booking(CAL.to_utc(day, time(8)), 600, chair_id=f"c{n}") for n in range(2)]
    result = plan_course(request(), CAL, resources(), full, TODAY)
    assert len(result.placed) == 35
    (miss,) = result.unplaced
    assert (miss.index, miss.wanted_date, miss.codes) == (2, day, (SLOTS_TAKEN,))
    assert "chair busy" in miss.reasons[0]


def test_patient_already_booked_all_window() -> None:
    day = date(2025, 11, 18)
    busy = [booking(CAL.to_utc(day, time(8)), 600, patient_id="p1")]
    (miss,) = plan_course(request(), CAL, resources(), busy, TODAY).unplaced
    assert miss.codes == (PATIENT_BUSY,)


def test_window_outside_opening_hours() -> None:
    result = plan_course(request(window=TimeWindow(time(6), time(8, 30))), CAL, resources(), [], TODAY)
    assert result.placed == () and all(u.codes == (WINDOW,) for u in result.unplaced)


def test_closed_calendar_is_explained() -> None:
    saturdays = ClinicCalendar("America/New_York", {5: (time(9), time(12))}, None)
    result = plan_course(request(), saturdays, resources(), [], TODAY)
    assert len(result.unplaced) == 36 and all(u.codes == (CALENDAR,) for u in result.unplaced)


def test_start_in_the_past_begins_today() -> None:
    result = plan_course(request(start=date(2025, 11, 3)), CAL, resources(), [], TODAY)
    assert result.placed[0].day == TODAY and len(result.placed) == 36


def test_accelerated_keeps_50_minutes_after_each_session_and_at_most_10_a_day() -> None:
    req = request("accelerated-saint", protocol="itbs", minutes=10, buffer=10)
    result = plan_course(req, CAL, resources(), [], TODAY)
    assert len(result.placed) == 50
    by_day: dict[date, list[object]] = {}
    for s in result.placed:
        by_day.setdefault(s.day, []).append(s.start)
    assert len(by_day) == 5 and all(len(starts) == 10 for starts in by_day.values())
    for starts in by_day.values():
        ordered = sorted(starts)  # type: ignore[type-var]
        # 50 min from the end of each 10-min session to the next start
        assert all(b - a >= timedelta(minutes=60) for a, b in zip(ordered, ordered[1:], strict=False))


def test_accelerated_day_too_short_never_packs_more_than_fits() -> None:
    req = request("accelerated-saint", protocol="itbs", minutes=10, buffer=10, window=TimeWindow(time(8), time(12)))
    result = plan_course(req, CAL, resources(), [], TODAY)
    per_day = Counter(s.day for s in result.placed)
    assert set(per_day.values()) == {4}  # 08:00, 09:00, 10:00, 11:00 (50 min after each 10-min session)
    assert len(result.unplaced) == 30 and all(u.codes == (INTERVAL,) for u in result.unplaced)


def test_two_courses_share_a_clinic_without_overlap() -> None:
    first = plan_course(request(), CAL, resources(1, 1), [], TODAY)
    second = plan_course(request(patient="p2", course="course-2"), CAL, resources(1, 1),
                         as_bookings(first.placed, "p1"), TODAY)
    assert len(second.placed) == 36
    assert {local(CAL, s.start) for s in second.placed} == {time(8, 45)}


def test_prebuilt_index_is_not_changed_by_planning() -> None:
    index = BusyIndex()
    plan_course(request(), CAL, resources(), index, TODAY)
    assert len(index) == 0


def test_planning_is_deterministic() -> None:
    existing = [booking(CAL.to_utc(date(2025, 11, 18), time(8)), 90, chair_id="c0")]
    runs = {plan_course(request(), CAL, resources(3, 2), existing, TODAY) for _ in range(3)}
    assert len(runs) == 1


def test_dst_change_keeps_the_local_start_time() -> None:
    # 2026-03-08: US clocks go forward; the local 08:00 slot moves from 13:00 to 12:00 UTC
    result = plan_course(request(start=date(2026, 3, 2)), CAL, resources(), [], date(2026, 3, 1))
    assert {local(CAL, s.start) for s in result.placed} == {time(8)}
    assert len({s.start.hour for s in result.placed}) == 2


def test_chair_without_matching_capability_is_never_used() -> None:
    mixed = Resources((ChairResource("a", "da", frozenset({"h1"})), ChairResource("b", "db", frozenset({"10hz"}))),
                      technicians(2))
    result = plan_course(request(), CAL, mixed, [], TODAY)
    assert {s.chair_id for s in result.placed} == {"b"}


def test_a_session_abuts_an_existing_booking_rather_than_strand_a_sliver() -> None:
    # the chair is booked 08:00-08:45 and 09:40-10:25: an 08:45 start would strand 10 minutes before 09:40
    day = date(2025, 11, 17)
    existing = [booking(CAL.to_utc(day, time(8)), 45, chair_id="c0", technician_id="t9"),
                booking(CAL.to_utc(day, time(9, 40)), 45, chair_id="c0", technician_id="t9")]
    req = request(window=TimeWindow(time(8, 45), time(12)))
    first = plan_course(req, CAL, resources(1, 1), existing, TODAY).placed[0]
    assert local(CAL, first.start) == time(10, 25)


def test_a_window_across_busy_and_quiet_hours_takes_the_quiet_ones() -> None:
    # one technician works 08:00-10:00 and is busy 08:00-09:00; a second comes on at 10:00: the 09:00-12:00 course
    # leaves the first one's last free hour to courses that can only come early
    day = date(2025, 11, 17)
    early = TechnicianResource("t0", weekly_shifts(time(8), time(10)))
    late = TechnicianResource("t1", weekly_shifts(time(10), time(18)))
    existing = [booking(CAL.to_utc(day, time(8)), 60, technician_id="t0")]
    req = request(window=TimeWindow(time(9), time(12)))
    first = plan_course(req, CAL, Resources(chairs(2), (early, late)), existing, TODAY).placed[0]
    assert (first.technician_id, local(CAL, first.start)) == ("t1", time(10))
