"""Planning through a busy index that loads bookings as the planner reaches them (as the service does) gives the
plan an index holding every booking gives, and reads only the hours of the days the course wants."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from schedules.intervals import BusyIndex
from schedules.plan import TimeWindow
from schedules.planner import plan_course, replan_missed
from schedules.resources import HeldBooking
from tests.builders.schedules import TODAY, booking, clinic, request, resources
from tests.schedules.test_intervals import RecordingLoader

CAL = clinic()


def busy_months(seed: int, fill: float = 0.75) -> list[HeldBooking]:
    """Three months of 45-min bookings on a clinic of 3 chairs and 3 technicians, plus other patients."""
    rng = random.Random(seed)
    out = []
    for offset in range(92):
        day = TODAY + timedelta(days=offset)
        if not CAL.is_open(day):
            continue
        for slot in range(13):
            start = CAL.to_utc(day, time(8)) + timedelta(minutes=45 * slot)
            for chair in range(3):
                if rng.random() < fill:
                    out.append(booking(start, 45, chair_id=f"c{chair}", device_id=f"d{chair}",
                                       technician_id=f"t{(chair + slot) % 3}", patient_id=f"x{rng.randrange(50)}",
                                       booking_id=f"{offset}-{slot}-{chair}"))
    return out


def test_plan_from_a_loading_index_is_the_plan_from_every_booking() -> None:
    for seed, (opens, closes) in ((1, (9, 13)), (2, (8, 18)), (3, (14, 18))):
        existing = busy_months(seed)
        req = request(window=TimeWindow(time(opens), time(closes)))
        loader = RecordingLoader(existing)
        lazy = plan_course(req, CAL, resources(3, 3), BusyIndex(loader=loader), TODAY)
        assert lazy == plan_course(req, CAL, resources(3, 3), existing, TODAY)
        assert lazy.placed and len(loader.calls) == 1  # one read for the whole course


def test_the_loader_is_asked_only_for_the_window_on_the_days_the_course_wants() -> None:
    req = request(window=TimeWindow(time(9), time(12)))
    loader = RecordingLoader(busy_months(4))
    result = plan_course(req, CAL, resources(3, 3), BusyIndex(loader=loader), TODAY)
    asked = [span for call in loader.calls for span in call]
    wanted_days = {s.day for s in result.placed} | {u.wanted_date for u in result.unplaced}
    assert {CAL.local_date(start) for start, _ in asked} <= wanted_days
    assert all(CAL.local_time(start) >= time(9) and CAL.local_time(end) <= time(12) for start, end in asked)
    assert sum((end - start for start, end in asked), timedelta()) <= timedelta(hours=3) * len(wanted_days)


def test_replan_through_a_loading_index_is_the_replan_from_every_booking() -> None:
    existing = busy_months(5, fill=0.6)
    req = request()
    plan = plan_course(req, CAL, resources(3, 3), existing, TODAY)
    others = [b for b in existing if b.patient_id != req.patient_id]
    later = date(2025, 11, 21)
    expected = replan_missed(req, plan, 5, CAL, resources(3, 3), others, later)
    got = replan_missed(req, plan, 5, CAL, resources(3, 3), BusyIndex(loader=RecordingLoader(others)), later)
    assert got == expected and got.makeup is not None
