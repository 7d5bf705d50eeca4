"""The most sessions that can be placed, as an exact model (OR-Tools CP-SAT), to set beside the greedy planner.

The model places each wanted session on its wanted day, inside the course's window within opening hours, on the
planner's grid (the slot step from the window's start), on a chair whose device runs the protocol and a
technician whose shift covers it, around the existing bookings, one session at a time per chair, device,
technician and patient, at most ``per_day`` a day per course; it maximises the number placed. Each clinic is its
own model (clinics share nothing); each day of a clinic too, when the courses want at most one session a day.
A time limit per model bounds the run: CP-SAT then reports its best placement and the bound it proved.

OR-Tools is a bench-only extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ortools.sat.python import cp_model

from schedules.calendar import ClinicCalendar
from schedules.plan import PlannedSession, PlanRequest, PlanResult
from schedules.resources import HeldBooking, Resources
from schedules.rhythm import expand_phases


@dataclass(frozen=True)
class Exact:
    """Sessions placed by the best solution known (CP-SAT's, or the heuristic's where that is better), the upper
    bound CP-SAT proved, and whether every model was solved to optimality."""

    placed: int
    bound: int
    optimal: bool


def solve_clinic(requests: Sequence[PlanRequest], calendar: ClinicCalendar, resources: Resources,
                 existing: Sequence[HeldBooking], today: date, seconds: float, hints: Sequence[PlanResult],
                 workers: int = 2) -> Exact:
    """Solve one clinic: one model per wanted day, starting from the heuristic's placement (``hints``, one
    result per request), so the best found is never worse than it."""
    hinted = {(r.patient_id, s.day): s for r, result in zip(requests, hints, strict=True) for s in result.placed}
    wanted: defaultdict[date, list[PlanRequest]] = defaultdict(list)
    for request in requests:
        for session in expand_phases(request.phases, calendar, max(request.start_date, today)).wanted:
            if session.per_day != 1:
                raise ValueError("the exact bench model takes one session a day per course")
            if calendar.is_open(session.day):
                wanted[session.day].append(request)
    total = Exact(0, 0, True)
    for day, day_requests in sorted(wanted.items()):
        found = _solve_day(day, day_requests, calendar, resources, existing, seconds, workers, hinted)
        total = Exact(total.placed + found.placed, total.bound + found.bound, total.optimal and found.optimal)
    return total


def _solve_day(day: date, requests: list[PlanRequest], calendar: ClinicCalendar, resources: Resources,
               existing: Sequence[HeldBooking], seconds: float, workers: int,
               hinted: dict[tuple[str, date], PlannedSession]) -> Exact:
    origin = calendar.to_utc(day, datetime.min.time())

    def minute(at: datetime) -> int:
        return int((at - origin) / timedelta(minutes=1))

    model = cp_model.CpModel()
    open_at, close_at = calendar.hours[day.weekday()]
    per_resource: defaultdict[tuple[str, str], list[cp_model.IntervalVar]] = defaultdict(list)
    for n, booking in enumerate(existing):
        if calendar.local_date(booking.start) == day or calendar.local_date(booking.end) == day:
            start, end = minute(booking.start), minute(booking.end)
            fixed = model.new_fixed_size_interval_var(start, end - start, f"held{n}")
            for key in booking.resource_keys():
                per_resource[key].append(fixed)
    placed = []
    for k, request in enumerate(requests):
        window = request.window
        lo_t, hi_t = (max(window.start, open_at), min(window.end, close_at)) if window else (open_at, close_at)
        lo, hi, size = minute(calendar.to_utc(day, lo_t)), minute(calendar.to_utc(day, hi_t)), request.slot_minutes
        starts = list(range(lo, hi - size + 1, request.slot_step_minutes))
        present = model.new_bool_var(f"p{k}")
        placed.append(present)
        if not starts:
            model.add(present == 0)
            continue
        hint = hinted.get((request.patient_id, day))
        model.add_hint(present, hint is not None)
        begin = model.new_int_var_from_domain(cp_model.Domain.from_values(starts), f"s{k}")
        if hint is not None:
            model.add_hint(begin, minute(hint.start))
        session = model.new_optional_fixed_size_interval_var(begin, size, present, f"x{k}")
        per_resource[("patient", request.patient_id)].append(session)
        chairs = []
        for chair in resources.chairs_for(request.protocol):
            on = model.new_bool_var(f"c{k}_{chair.id}")
            held = model.new_optional_fixed_size_interval_var(begin, size, on, f"c{k}_{chair.id}_i")
            per_resource[("chair", chair.id)].append(held)
            per_resource[("device", chair.device_id)].append(held)
            model.add_hint(on, hint is not None and hint.chair_id == chair.id)
            chairs.append(on)
        technicians = []
        for technician in resources.technicians_sorted():
            fits = [s for s in starts if technician.covers(day, calendar.local_time(origin + timedelta(minutes=s)),
                                                           calendar.local_time(origin + timedelta(minutes=s + size)))]
            if not fits:
                continue
            on = model.new_bool_var(f"t{k}_{technician.id}")
            model.add_linear_expression_in_domain(begin, cp_model.Domain.from_values(fits)).only_enforce_if(on)
            model.add_hint(on, hint is not None and hint.technician_id == technician.id)
            per_resource[("technician", technician.id)].append(
                model.new_optional_fixed_size_interval_var(begin, size, on, f"t{k}_{technician.id}_i"))
            technicians.append(on)
        model.add(sum(chairs) == present)
        model.add(sum(technicians) == present)
    for intervals in per_resource.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    model.maximize(sum(placed))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    # the heuristic's own placement is a solution of this model: the best known is never below it
    known = sum(1 for r in requests if (r.patient_id, day) in hinted)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Exact(known, len(requests), False)
    return Exact(max(known, int(round(solver.objective_value))), int(solver.best_objective_bound + 1e-6),
                 status == cp_model.OPTIMAL)
