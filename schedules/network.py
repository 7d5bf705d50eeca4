"""Plan many courses of one clinic together (a network's week re-plan): greedy course by course, then repair.

``plan_course`` plans one course around bookings it must never move (real patients' appointments), so a
session whose day is full stays unplaced even when a session planned minutes earlier could have sat elsewhere
in its own window. When every course of the week is being planned in one call, those sessions are still only
a plan: after the greedy pass, each session left unplaced for want of a free slot looks for a start where a
single session of this call's courses is in its way and that session has another free start, the same day,
in its own window; both are then booked. Existing bookings are never moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from math import ceil, floor
from typing import TypeVar

from schedules.calendar import ClinicCalendar
from schedules.fit import Gap, free_gaps
from schedules.intervals import BusyIndex, from_epoch
from schedules.plan import SLOTS_TAKEN, PlannedSession, PlanRequest, PlanResult, Unplaced
from schedules.planner import plan_course
from schedules.resources import ChairResource, HeldBooking, ResourceKey, Resources, TechnicianResource

_R = TypeVar("_R", ChairResource, TechnicianResource)
_Owner = tuple[int, int]  # (request number in the call, session index): a session this call planned
_Held = tuple[float, float, _Owner | None]  # epoch [start, end), and its owner (None: an existing booking)
_Spot = tuple[float, float, ChairResource, TechnicianResource]  # where a session sits: epoch [start, end), on what
_Room = tuple[float, list[ChairResource], list[TechnicianResource]]  # a free start, with the chairs and technicians


@dataclass(frozen=True)
class WeekPlan:
    """One result per request, in request order, and how many sessions the repair placed and moved."""

    results: tuple[PlanResult, ...]
    repaired: int
    moved: int


def plan_week(
    requests: Sequence[PlanRequest],
    calendar: ClinicCalendar,
    resources: Resources,
    existing: Sequence[HeldBooking] | BusyIndex,
    today: date,
) -> WeekPlan:
    """Plan these courses of one clinic jointly: each in turn around the existing bookings and the courses before
    it, then the repair pass. ``existing`` is never changed (a prebuilt index is only read through an overlay)."""
    if isinstance(existing, BusyIndex):
        fixed, index = existing, existing.overlay()  # the caller's index is only read
    else:
        # two indexes rather than an overlay: every query of the greedy pass walks an overlay's chain as well
        fixed, index = BusyIndex.from_bookings(existing), BusyIndex.from_bookings(existing)
    results: list[PlanResult] = []
    for request in requests:
        result = plan_course(request, calendar, resources, index, today)
        for s in result.placed:  # the next course plans around this one
            index.add_booking(HeldBooking(s.start, s.end, s.chair_id, s.device_id, s.technician_id,
                                          request.patient_id))
        results.append(result)
    board = _Board(requests, calendar, resources, fixed, results)
    repaired = sum(board.repair(day) for day in sorted({u.wanted_date for r in results for u in r.unplaced}))
    return WeekPlan(board.results(), repaired, board.moves)


class _Board:
    """Every resource's bookings on one day at a time: the existing ones (fixed) and this call's sessions."""

    def __init__(self, requests: Sequence[PlanRequest], calendar: ClinicCalendar, resources: Resources,
                 fixed: BusyIndex, results: list[PlanResult]) -> None:
        self.requests, self.calendar, self.fixed = requests, calendar, fixed
        self.technicians = resources.technicians_sorted()
        self.chairs = {r.protocol: resources.chairs_for(r.protocol) for r in requests}
        self.placed = [{s.index: s for s in r.placed} for r in results]
        self.unplaced = [{u.index: u for u in r.unplaced} for r in results]
        self.warnings = [r.warnings for r in results]
        self.moves = 0
        self._day = date.min
        self._held: dict[ResourceKey, list[_Held]] = {}
        self._shifts: dict[str, list[Gap]] = {}
        self._windows: dict[tuple[int, int], tuple[float, float]] = {}
        self._room: dict[_Owner, list[_Room]] = {}
        self._alone: set[_Owner] = set()
        self._fits: dict[tuple[tuple[ResourceKey, ...], float, float, float, float], set[int]] = {}
        self._failed: set[tuple[float, float, str, int, int] | None] = set()
        self._ways: dict[tuple[tuple[ResourceKey, ...], float, float, float, int],
                         tuple[set[int], dict[int, _Owner]]] = {}
        self._free_cache: dict[tuple[str, float, float, int, int], tuple[dict[int, list[ChairResource]],
                                                                           dict[int, list[TechnicianResource]]]] = {}

    def results(self) -> tuple[PlanResult, ...]:
        """The plans as they stand, in request order."""
        return tuple(
            PlanResult(tuple(sorted(p.values(), key=_start)), tuple(sorted(u.values(), key=_index)), w)
            for p, u, w in zip(self.placed, self.unplaced, self.warnings, strict=True)
        )

    def repair(self, day: date) -> int:
        """Place what can be placed of the day's sessions left for want of a slot; how many were placed."""
        self._load(day)
        done = 0
        for n in range(len(self.requests)):
            for miss in [u for u in self.unplaced[n].values() if u.wanted_date == day and self._repairable(n, u)]:
                done += self._insert(n, miss)
        return done

    def _repairable(self, n: int, miss: Unplaced) -> bool:
        """Only a session stopped by taken slots alone, of a course with no other session that day (so no daily
        limit or interval between sessions can be broken), and with an authorization unit left for it."""
        if miss.codes != (SLOTS_TAKEN,) or any(s.day == miss.wanted_date for s in self.placed[n].values()):
            return False
        auth = self.requests[n].authorization
        return auth is None or auth.units_used + len(self.placed[n]) < auth.units

    def _load(self, day: date) -> None:
        """Read the day's existing bookings and this call's sessions on that day, per resource."""
        self._day, self._room, self._windows, self._fits, self._free_cache = day, {}, {}, {}, {}
        self._failed, self._ways = set(), {}
        open_at, close_at = self.calendar.hours[day.weekday()]
        lo, hi = self.calendar.to_utc(day, open_at).timestamp(), self.calendar.to_utc(day, close_at).timestamp()
        keys = {("technician", t.id) for t in self.technicians}
        keys |= {(kind, rid) for chairs in self.chairs.values() for c in chairs
                 for kind, rid in (("chair", c.id), ("device", c.device_id))}
        keys |= {("patient", r.patient_id) for r in self.requests}
        self._held = {key: [(s, e, None) for s, e in self.fixed.busy_between((key,), lo, hi)] for key in keys}
        self._shifts = {t.id: [(self._epoch(a), self._epoch(b)) for a, b in t.shifts_on(day)] for t in self.technicians}
        self._alone = set()
        for n, placed in enumerate(self.placed):
            today = [s for s in placed.values() if s.day == day]
            for s in today:
                self._book(n, s)
            if len(today) == 1:  # a course's only session that day: moving it breaks no interval between sessions
                self._alone.add((n, today[0].index))

    def _epoch(self, at: time) -> float:
        return self.calendar.to_utc(self._day, at).timestamp()

    def _book(self, n: int, s: PlannedSession) -> None:
        span, owner = (s.start.timestamp(), s.end.timestamp()), (n, s.index)
        for key in (("chair", s.chair_id), ("device", s.device_id), ("technician", s.technician_id),
                    ("patient", self.requests[n].patient_id)):
            self._held[key].append((*span, owner))

    def _unbook(self, n: int, s: PlannedSession) -> None:
        for key in (("chair", s.chair_id), ("device", s.device_id), ("technician", s.technician_id),
                    ("patient", self.requests[n].patient_id)):
            self._held[key] = [h for h in self._held[key] if h[2] != (n, s.index)]

    def _window(self, n: int) -> tuple[float, float]:
        """The course's window within the day's opening hours, as epoch seconds."""
        window = self.requests[n].window
        cache = (-1, -1) if window is None else (window.start.hour * 60 + window.start.minute,
                                                 window.end.hour * 60 + window.end.minute)
        found = self._windows.get(cache)
        if found is None:
            open_at, close_at = self.calendar.hours[self._day.weekday()]
            lo_t, hi_t = (max(window.start, open_at), min(window.end, close_at)) if window else (open_at, close_at)
            found = self._windows[cache] = (self._epoch(lo_t), self._epoch(hi_t))
        return found

    def _starts(self, n: int) -> list[tuple[float, float]]:
        """The course's candidate [start, end) spans: its window, on the grid the planner uses (the slot step
        from the window's start)."""
        request = self.requests[n]
        lo, hi = self._window(n)
        slot, step = request.slot_minutes * 60, request.slot_step_minutes * 60
        return [(lo + k * step, lo + k * step + slot) for k in range(int((hi - lo - slot) // step) + 1)]

    def _insert(self, n: int, miss: Unplaced) -> bool:
        """Place the missed session where at most one of this call's sessions is in the way and can move."""
        request, (lo, hi) = self.requests[n], self._window(n)
        patient = self._near((("patient", request.patient_id),), lo, hi)
        # a patient free all window long is no different from one that failed before with the same window, until
        # a repair changes the day (the tight windows hold most of a day's missed sessions)
        alike = (lo, hi, request.protocol, request.slot_minutes, request.slot_step_minutes) if not patient else None
        if alike in self._failed:
            return False
        grid = (lo, request.slot_step_minutes * 60, request.slot_minutes * 60, len(self._starts(n)) - 1)
        free_patient = self._in_the_way((("patient", request.patient_id),), None, grid)
        chairs = [(c, *self._in_the_way((("chair", c.id), ("device", c.device_id)), None, grid))
                  for c in self.chairs[request.protocol]]
        technicians = [(t, *self._in_the_way((("technician", t.id),), self._shifts[t.id], grid))
                       for t in self.technicians]
        for k, span in enumerate(self._starts(n)):
            if k in free_patient[0] or k in free_patient[1]:
                continue
            # the chairs and technicians held here by nothing (None), or by one session this call can move
            by_chair = [(c, single.get(k)) for c, blocked, single in chairs if k not in blocked]
            by_technician = [(t, single.get(k)) for t, blocked, single in technicians if k not in blocked]
            if by_chair and by_technician and self._place_at(n, miss, span, by_chair, by_technician):
                return True
        if alike is not None:
            self._failed.add(alike)
        return False

    def _place_at(self, n: int, miss: Unplaced, span: tuple[float, float],
                  by_chair: list[tuple[ChairResource, _Owner | None]],
                  by_technician: list[tuple[TechnicianResource, _Owner | None]]) -> bool:
        """Book the missed session over ``span`` on a free chair and technician, or on those one session in the
        way frees by moving (each such session tried once, in order)."""
        free_chairs = [c for c, o in by_chair if o is None]
        free_technicians = [t for t, o in by_technician if o is None]
        if free_chairs and free_technicians:  # a repair earlier that day may have left room
            self._book_missed(n, miss, (*span, free_chairs[0], free_technicians[0]), [])
            return True
        for owner in dict.fromkeys(o for _, o in (*by_chair, *by_technician) if o is not None):
            chairs = [c for c, o in by_chair if o is None or o == owner]
            technicians = [t for t, o in by_technician if o is None or o == owner]
            found = self._elsewhere(n, owner, span, chairs, technicians) if chairs and technicians else None
            if found is not None:
                move, chair, technician = found
                before = self.placed[owner[0]][owner[1]]
                self._unbook(owner[0], before)
                self.placed[owner[0]][owner[1]] = move
                self._book(owner[0], move)
                self.moves += 1
                self._book_missed(n, miss, (*span, chair, technician), [(owner[0], before), (owner[0], move)])
                return True
        return False

    def _book_missed(self, n: int, miss: Unplaced, at: _Spot, changed: list[tuple[int, PlannedSession]]) -> None:
        session = _session(miss, self._day, self.requests[n], at)
        self.placed[n][miss.index] = session
        del self.unplaced[n][miss.index]
        self._book(n, session)
        self._alone.add((n, miss.index))
        self._forget([*changed, (n, session)])

    def _in_the_way(self, keys: tuple[ResourceKey, ...], shift: list[Gap] | None,
                    grid: tuple[float, float, float, int]) -> tuple[set[int], dict[int, _Owner]]:
        """At each grid start (k of lo + k·step, 0 <= k <= last), what holds these resources over the slot: the
        starts where they cannot be had (an existing booking, two sessions, one that cannot move, or off shift),
        and those where one session this call can move is in the way. Kept until a repair touches them: the
        missed sessions of a day share a few windows."""
        cache = (keys, *grid)
        found = self._ways.get(cache)
        if found is None:
            found = self._ways[cache] = self._find_the_way(keys, shift, grid)
        return found

    def _find_the_way(self, keys: tuple[ResourceKey, ...], shift: list[Gap] | None,
                      grid: tuple[float, float, float, int]) -> tuple[set[int], dict[int, _Owner]]:
        lo, step, slot, last = grid
        blocked: set[int] = set()
        single: dict[int, _Owner] = {}
        top = lo + last * step + slot
        for a, b, owner in (h for key in keys for h in self._held[key] if h[0] < top and lo < h[1]):
            # [lo + k·step, + slot) overlaps [a, b) when a - slot < lo + k·step < b
            starts = range(max(0, floor((a - slot - lo) / step) + 1), min(last, ceil((b - lo) / step) - 1) + 1)
            if owner is None or owner not in self._alone:
                blocked.update(starts)
                continue
            for k in starts:
                if single.setdefault(k, owner) != owner:  # two sessions in the way
                    blocked.add(k)
        if shift is not None:
            blocked |= set(range(last + 1)) - _grid(shift, lo, step, slot, last)
        return blocked, {k: owner for k, owner in single.items() if k not in blocked}

    def _near(self, keys: tuple[ResourceKey, ...], lo: float, hi: float) -> list[_Held]:
        """These resources' bookings overlapping [lo, hi) (a search asks about one window many times)."""
        return [h for key in keys for h in self._held[key] if h[0] < hi and lo < h[1]]

    def _forget(self, changed: list[tuple[int, PlannedSession]]) -> None:
        """Drop what was found about the resources and hours these sessions' booking or moving touched."""
        keys = set().union(*(self._keys(n, s) for n, s in changed))
        spans = [(s.start.timestamp(), s.end.timestamp()) for _, s in changed]
        self._fits = {cache: found for cache, found in self._fits.items() if keys.isdisjoint(cache[0])}
        self._ways = {cache: found for cache, found in self._ways.items() if keys.isdisjoint(cache[0])}
        self._free_cache, self._failed = {}, set()
        self._room = {owner: rooms for owner, rooms in self._room.items()
                      if not any(a < self._window(owner[0])[1] and self._window(owner[0])[0] < b for a, b in spans)}

    def _elsewhere(self, n: int, owner: _Owner, span: tuple[float, float], chairs: list[ChairResource],
                   technicians: list[TechnicianResource]
                   ) -> tuple[PlannedSession, ChairResource, TechnicianResource] | None:
        """Another place for this session, the same day in its own window, free of everything but itself and
        clear of the missed session over ``span`` on one of ``chairs`` and ``technicians``; with the chair and
        technician the missed session then takes."""
        start, end = span
        same_patient = self.requests[owner[0]].patient_id == self.requests[n].patient_id
        slot = self.requests[owner[0]].slot_minutes * 60
        chair_pair: tuple[ChairResource, ChairResource] | None
        technician_pair: tuple[TechnicianResource, TechnicianResource] | None
        for s, room_chairs, room_technicians in self._rooms(owner):
            if not (s < end and start < s + slot):  # no overlap in time: any of each will do
                chair_pair, technician_pair = (chairs[0], room_chairs[0]), (technicians[0], room_technicians[0])
            elif same_patient:
                continue
            else:  # at the same time: the two need different chairs and different technicians
                chair_pair, technician_pair = _apart(chairs, room_chairs), _apart(technicians, room_technicians)
            if chair_pair is not None and technician_pair is not None:
                moved = replace(self.placed[owner[0]][owner[1]], start=from_epoch(s), end=from_epoch(s + slot),
                                chair_id=chair_pair[1].id, device_id=chair_pair[1].device_id,
                                technician_id=technician_pair[1].id)
                return moved, chair_pair[0], technician_pair[0]
        return None

    def _rooms(self, owner: _Owner) -> list[_Room]:
        """Each start in the session's window where it could sit instead, with the chairs and technicians free
        there (ignoring the session itself); kept until the day changes."""
        found = self._room.get(owner)
        if found is None:
            found = self._room[owner] = self._find_rooms(owner)
        return found

    def _find_rooms(self, owner: _Owner) -> list[_Room]:
        """From what is free in the window for everyone (``_free_at``), plus what the session's own chair and
        technician would have free if it were not there."""
        n = owner[0]
        request, (lo, hi) = self.requests[n], self._window(n)
        mine = self._keys_of(owner)
        patient = self._fitting((("patient", request.patient_id),), [(lo, hi)], n, owner, mine)
        if not patient:
            return []
        chairs_at, technicians_at = self._free_at(n)
        own_chairs = [(c, self._fitting(keys, [(lo, hi)], n, owner, mine)) for c in self.chairs[request.protocol]
                      if not mine.isdisjoint(keys := (("chair", c.id), ("device", c.device_id)))]
        own_technicians = [(t, self._fitting((key,), _clip(self._shifts[t.id], lo, hi), n, owner, mine))
                           for t in self.technicians if (key := ("technician", t.id)) in mine]
        # where a chair, a technician and the patient are all free (set operations first: most starts have none)
        with_chair = set(chairs_at).union(*(fits for _, fits in own_chairs))
        with_technician = set(technicians_at).union(*(fits for _, fits in own_technicians))
        step, rooms = request.slot_step_minutes * 60, []
        for k in sorted(patient & with_chair & with_technician):
            # what is free for everyone is free without this session too: its own are only added where not there
            rooms.append((lo + k * step, _with(chairs_at.get(k, []), own_chairs, k),
                          _with(technicians_at.get(k, []), own_technicians, k)))
        return rooms

    def _free_at(self, n: int) -> tuple[dict[int, list[ChairResource]], dict[int, list[TechnicianResource]]]:
        """The chairs and the technicians free at each grid start of course ``n``'s window, as things stand
        (kept until a repair changes the day: every session in the way with this window starts from it)."""
        request, (lo, hi) = self.requests[n], self._window(n)
        cache = (request.protocol, lo, hi, request.slot_minutes, request.slot_step_minutes)
        found = self._free_cache.get(cache)
        if found is None:
            nobody: tuple[int, int] = (-1, -1)
            chairs: dict[int, list[ChairResource]] = {}
            for chair in self.chairs[request.protocol]:
                for k in self._fitting((("chair", chair.id), ("device", chair.device_id)), [(lo, hi)], n, nobody,
                                       set()):
                    chairs.setdefault(k, []).append(chair)
            technicians: dict[int, list[TechnicianResource]] = {}
            for technician in self.technicians:
                shift = _clip(self._shifts[technician.id], lo, hi)
                for k in self._fitting((("technician", technician.id),), shift, n, nobody, set()):
                    technicians.setdefault(k, []).append(technician)
            found = self._free_cache[cache] = (chairs, technicians)
        return found

    def _keys_of(self, owner: _Owner) -> set[ResourceKey]:
        s = self.placed[owner[0]][owner[1]]
        return self._keys(owner[0], s)

    def _keys(self, n: int, s: PlannedSession) -> set[ResourceKey]:
        return {("chair", s.chair_id), ("device", s.device_id), ("technician", s.technician_id),
                ("patient", self.requests[n].patient_id)}

    def _fitting(self, keys: tuple[ResourceKey, ...], domain: list[Gap], n: int, owner: _Owner,
                 mine: set[ResourceKey]) -> set[int]:
        """The grid starts (as k of lo + k·step in course ``n``'s window) where a slot fits in ``domain`` with none
        of these resources held but by ``owner``. Resources the owner does not hold look the same to every
        session, so their answer is kept until the day changes (most of each search asks about them)."""
        request, (lo, hi) = self.requests[n], self._window(n)
        slot, step = request.slot_minutes * 60, request.slot_step_minutes * 60
        shared = mine.isdisjoint(keys)
        cache = (keys, lo, hi, slot, step)  # the domain follows from the keys and the window
        found = self._fits.get(cache) if shared else None
        if found is None:
            busy = sorted((h[0], h[1]) for key in keys for h in self._held[key] if h[2] != owner)
            found = _grid(free_gaps(domain, busy), lo, step, slot, int((hi - lo - slot) // step))
            if shared:
                self._fits[cache] = found
        return found


def _grid(gaps: list[Gap], lo: float, step: float, slot: float, last: int) -> set[int]:
    """The grid starts lo + k·step (0 <= k <= last) whose slot fits in one of these gaps, as their k."""
    found: set[int] = set()
    for a, b in gaps:
        if b - a < slot:
            continue
        found.update(range(max(0, ceil((a - lo) / step - 1e-9)), min(last, floor((b - slot - lo) / step + 1e-9)) + 1))
    return found


def _with(free: list[_R], own: list[tuple[_R, set[int]]], k: int) -> list[_R]:
    """The resources free for everyone at start k, and the session's own ones free there without it."""
    extra = [r for r, fits in own if k in fits and r not in free]
    return free + extra if extra else free


def _apart(mine: list[_R], theirs: list[_R]) -> tuple[_R, _R] | None:
    """One of each list, not the same resource (the first two of each are enough to find a pair if any)."""
    for a in mine[:2]:
        for b in theirs[:2]:
            if a.id != b.id:
                return a, b
    return None


def _clip(spans: list[Gap], lo: float, hi: float) -> list[Gap]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if max(a, lo) < min(b, hi)]


def _start(s: PlannedSession) -> datetime:
    return s.start


def _index(u: Unplaced) -> int:
    return u.index


def _session(miss: Unplaced, day: date, request: PlanRequest, at: _Spot) -> PlannedSession:
    start, end, chair, technician = at
    phase_index = request.phase_of(miss.index)
    kind = request.phases[phase_index].kind
    return PlannedSession(miss.index, phase_index, miss.phase, kind, day, from_epoch(start), from_epoch(end),
                          chair.id, chair.device_id, technician.id)
