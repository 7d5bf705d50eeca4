"""plan_week: many courses of one clinic planned together, and the repair that moves this call's own sessions."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from config.course_templates import DailyRhythm, PhaseTemplate
from schedules.intervals import BusyIndex
from schedules.network import plan_week
from schedules.plan import SLOTS_TAKEN, PlanRequest, PlanResult, TimeWindow
from schedules.planner import plan_course
from schedules.resources import HeldBooking, Resources, TechnicianResource, weekly_shifts
from tests.builders.schedules import TODAY, as_bookings, booking, chairs, clinic, resources

CAL = clinic()
MONDAY = date(2025, 11, 17)


def week(course: str, start: time, end: time, sessions: int = 1) -> PlanRequest:
    """A course wanting ``sessions`` daily 45-min sessions from Monday, in the window [start, end)."""
    phases = (PhaseTemplate(name="acute", kind="acute", sessions=sessions, rhythm=DailyRhythm()),)
    return PlanRequest(course, f"patient-{course}", "10hz", phases, MONDAY, 37, 8, TimeWindow(start, end))


def local(at: datetime) -> time:
    return CAL.local_time(at)


def test_a_session_the_greedy_pass_leaves_out_is_placed_by_moving_an_earlier_course() -> None:
    # one chair, one technician: the flexible course takes 08:00 first, the 08:00-only course finds it taken
    flexible, early = week("flexible", time(8), time(10)), week("early", time(8), time(8, 45))
    first = plan_course(flexible, CAL, resources(1, 1), [], TODAY)
    alone = plan_course(early, CAL, resources(1, 1), as_bookings(first.placed, flexible.patient_id), TODAY)
    assert [u.codes for u in alone.unplaced] == [(SLOTS_TAKEN,)]

    plan = plan_week([flexible, early], CAL, resources(1, 1), [], TODAY)

    assert (plan.repaired, plan.moved) == (1, 1)
    moved, placed = plan.results[0].placed[0], plan.results[1].placed[0]
    assert (local(placed.start), local(moved.start)) == (time(8), time(8, 45))
    assert all(r.unplaced == () for r in plan.results)


def test_an_existing_booking_is_never_moved() -> None:
    # the 08:00 slot is an existing patient's: nothing the call planned is in the way, so nothing can be done
    existing = [booking(CAL.to_utc(MONDAY, time(8)), 45, chair_id="c0", device_id="d0", technician_id="t0",
                        patient_id="other", booking_id="b1")]
    index = BusyIndex.from_bookings(existing)
    plan = plan_week([week("flexible", time(8), time(10)), week("early", time(8), time(8, 45))], CAL,
                     resources(1, 1), index, TODAY)
    assert plan.results[1].placed == () and [u.codes for u in plan.results[1].unplaced] == [(SLOTS_TAKEN,)]
    assert plan.repaired == 0 and len(index) == 4  # the caller's index holds the one booking's four resources only


def test_the_plan_is_deterministic() -> None:
    requests, existing, two_shifts = _busy_week(seed=3)
    plans = {plan_week(requests, CAL, two_shifts, existing, TODAY) for _ in range(3)}
    assert len(plans) == 1


def test_a_busy_week_is_repaired_without_double_booking_anything() -> None:
    requests, existing, two_shifts = _busy_week(seed=1)
    greedy = _greedy(requests, existing, two_shifts)
    plan = plan_week(requests, CAL, two_shifts, existing, TODAY)

    assert plan.repaired > 0
    assert _unplaced(plan.results) == _unplaced(greedy) - plan.repaired
    held: defaultdict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for b in existing:  # the existing bookings, exactly as given
        for key in b.resource_keys():
            held[key].append((b.start, b.end))
    for request, result in zip(requests, plan.results, strict=True):
        assert result.indices == (1, 2, 3, 4, 5)
        for s in result.placed:
            assert request.window is not None
            assert request.window.start <= local(s.start) and local(s.end) <= request.window.end
            shift = next(t for t in two_shifts.technicians if t.id == s.technician_id)
            assert shift.covers(s.day, local(s.start), local(s.end))
            for key in (("chair", s.chair_id), ("device", s.device_id), ("technician", s.technician_id),
                        ("patient", request.patient_id)):
                held[key].append((s.start, s.end))
    for key, spans in held.items():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), key


def _busy_week(seed: int) -> tuple[list[PlanRequest], list[HeldBooking], Resources]:
    """A small clinic's week: 4 chairs, early and late technicians, a fifth of the 45-min grid booked, 30 courses."""
    rng = random.Random(seed)
    technicians = tuple(
        TechnicianResource(f"t{n}", weekly_shifts(time(8), time(13)) if n % 2 else weekly_shifts(time(11), time(18)))
        for n in range(4)
    )
    clinic_resources = Resources(chairs(4), technicians)
    existing = []
    for day in range(5):
        opening = CAL.to_utc(MONDAY + timedelta(days=day), time(8))
        for slot in range(13):
            for chair in range(4):
                if rng.random() < 0.2:
                    existing.append(booking(opening + timedelta(minutes=45 * slot), 45, chair_id=f"c{chair}",
                                            device_id=f"d{chair}", technician_id=f"t{(chair + slot) % 4}",
                                            patient_id=f"x{day}-{slot}-{chair}", booking_id=f"b{day}-{slot}-{chair}"))
    requests = []
    for n in range(30):
        start = rng.choice([8, 10, 12, 14])
        requests.append(week(f"k{n}", time(start), time(start + 4), sessions=5))
    return requests, existing, clinic_resources


def _greedy(requests: list[PlanRequest], existing: list[HeldBooking], clinic_resources: Resources) -> list[PlanResult]:
    """Course by course, each around the courses before it: the pass before the repair."""
    index, results = BusyIndex.from_bookings(existing), []
    for request in requests:
        result = plan_course(request, CAL, clinic_resources, index, TODAY)
        for b in as_bookings(result.placed, request.patient_id):
            index.add_booking(b)
        results.append(result)
    return results


def _unplaced(results: list[PlanResult] | tuple[PlanResult, ...]) -> int:
    return sum(len(r.unplaced) for r in results)
