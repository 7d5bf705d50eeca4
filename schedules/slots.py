"""Place one wanted session: gates (authorization, capability, calendar), then the best free slot.

The search is greedy and deterministic (docs/records-and-signatures.md#slot-search: greedy is the instant answer for
interactive single bookings). It prefers the course's previous start time, chair and technician so a
course keeps one recurring slot where it can; otherwise it takes the best fit (schedules/fit.py, ``_rank``)
rather than the earliest start, which fragmented chairs and technicians and spent scarce hours first. When
nothing fits, a stepping search that jumps past busy intervals says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import chain
from math import ceil
from typing import TypeVar
from zoneinfo import ZoneInfo

from schedules.calendar import ClinicCalendar
from schedules.fit import FreeTime, candidate_starts
from schedules.intervals import BusyIndex, from_epoch
from schedules.plan import (
    AUTHORIZATION_END,
    AUTHORIZATION_START,
    AUTHORIZATION_UNITS,
    CALENDAR,
    CAPABILITY,
    DAILY_LIMIT,
    INTERVAL,
    PAST,
    PATIENT_BUSY,
    SLOTS_TAKEN,
    TECHNICIAN_SHIFT,
    WINDOW,
    PlannedSession,
    PlanRequest,
    Unplaced,
    reason,
)
from schedules.resources import ChairResource, ResourceKey, Resources, TechnicianResource
from schedules.rhythm import WantedSession

_R = TypeVar("_R", ChairResource, TechnicianResource)


@dataclass(frozen=True)
class _Miss:
    """Why one candidate start failed, and the earliest start that could succeed."""

    cause: str
    retry_at: datetime


class Placer:
    """Places a course's sessions one by one into a busy index (its own overlay; the caller's is untouched)."""

    def __init__(
        self,
        request: PlanRequest,
        calendar: ClinicCalendar,
        resources: Resources,
        busy: BusyIndex,
        today: date,
        units_taken: int,
    ) -> None:
        self.request = request
        self.calendar = calendar
        self.busy = busy.overlay()
        self.today = today
        self.units_taken = units_taken
        self.chairs = resources.chairs_for(request.protocol)
        self.technicians = resources.technicians_sorted()
        # each resource's busy index keys, made once per course rather than once per chair per search
        self.chair_keys = {c.id: (("chair", c.id), ("device", c.device_id)) for c in self.chairs}
        self.technician_keys = {t.id: (("technician", t.id),) for t in self.technicians}
        self.placed: list[PlannedSession] = []
        self.slot = timedelta(minutes=request.slot_minutes)
        self.step = timedelta(minutes=request.slot_step_minutes)
        self._known = _KnownBusy()
        self._windows: dict[date, tuple[datetime, datetime, time, time]] = {}

    def hold(self, session: PlannedSession) -> None:
        """Count an already planned session (kept from an earlier plan) as placed and busy."""
        self._commit(session, counts_unit=session.day >= self.today)

    def place(self, wanted: WantedSession) -> PlannedSession | Unplaced:
        """Place one session, or say why it cannot be placed."""
        reasons = self._gates(wanted)
        bounds = self._bounds(wanted) if not reasons else None
        if isinstance(bounds, list):
            reasons = bounds
        if reasons or bounds is None:
            return Unplaced(wanted.index, wanted.phase_name, wanted.day, tuple(reasons))
        found = self._search(wanted, *bounds)
        if isinstance(found, PlannedSession):
            self._commit(found, counts_unit=True)
            return found
        return Unplaced(wanted.index, wanted.phase_name, wanted.day, tuple(found))

    def _commit(self, session: PlannedSession, counts_unit: bool) -> None:
        rid = self.request.course_id
        for key in (
            ("chair", session.chair_id),
            ("device", session.device_id),
            ("technician", session.technician_id),
            ("patient", self.request.patient_id),
        ):
            self.busy.add(key, session.start, session.end, f"{rid}#{session.index}")
        self.placed.append(session)
        self.units_taken += 1 if counts_unit else 0

    def _gates(self, wanted: WantedSession) -> list[str]:
        day, auth = wanted.day, self.request.authorization
        if wanted.note is not None:
            return [wanted.note]
        reasons: list[str] = []
        if day < self.today:
            reasons.append(reason(PAST, f"wanted day {day} is before today ({self.today})"))
        if auth is not None and day > auth.end:
            reasons.append(reason(AUTHORIZATION_END, f"authorization window ended on {auth.end} (wanted {day})"))
        if auth is not None and day < auth.start:
            reasons.append(reason(AUTHORIZATION_START, f"authorization starts on {auth.start} (wanted {day})"))
        if auth is not None and self.units_taken >= auth.units:
            reasons.append(reason(AUTHORIZATION_UNITS, f"authorization units exhausted ({auth.units} units)"))
        if not self.chairs:
            reasons.append(reason(CAPABILITY, f"no chair has a device that can run protocol {self.request.protocol!r}"))
        closed = self.calendar.closed_reason(day)
        if closed is not None:
            reasons.append(reason(CALENDAR, closed))
        return reasons

    def prefetch(self, wanted: Iterable[WantedSession]) -> None:
        """Have the busy index load, at once, the hours of each wanted day the search can reach."""
        if not self.busy.loads:  # an index built up front: working out the days would buy nothing
            return
        days = {w.day for w in wanted if w.note is None and self.calendar.closed_reason(w.day) is None}
        self.busy.prefetch(self._day_window(day)[:2] for day in sorted(days))

    def _day_window(self, day: date) -> tuple[datetime, datetime, time, time]:
        """The UTC span of the preferred window within opening hours on this open day, and its local ends."""
        found = self._windows.get(day)
        if found is None:
            open_at, close_at = self.calendar.hours[day.weekday()]
            window = self.request.window
            lo_t, hi_t = (max(window.start, open_at), min(window.end, close_at)) if window else (open_at, close_at)
            found = self._windows[day] = (self.calendar.to_utc(day, lo_t), self.calendar.to_utc(day, hi_t), lo_t, hi_t)
        return found

    def _bounds(self, wanted: WantedSession) -> tuple[datetime, datetime] | list[str]:
        day = wanted.day
        open_at, close_at = self.calendar.hours[day.weekday()]
        window = self.request.window
        lo, hi, _, hi_t = self._day_window(day)
        if hi - lo < self.slot:
            text = f"preferred window {window} and opening hours {open_at:%H:%M}-{close_at:%H:%M} on {day}"
            return [reason(WINDOW, f"{text} leave less than the {self.request.slot_minutes}-min slot")]
        same_day = [s.start for s in self.placed if s.day == day]
        if len(same_day) >= wanted.per_day:
            return [reason(DAILY_LIMIT, f"already {len(same_day)} session(s) on {day}; at most {wanted.per_day}")]
        if same_day:
            lo = max(lo, max(same_day) + timedelta(minutes=wanted.min_start_interval_minutes))
            if lo + self.slot > hi:
                gap = wanted.min_start_interval_minutes
                return [
                    reason(INTERVAL, f"no start {gap} min after the previous one fits before {hi_t:%H:%M} on {day}")
                ]
        return lo, hi

    def _search(self, wanted: WantedSession, lo: datetime, hi: datetime) -> PlannedSession | list[str]:
        misses: Counter[str] = Counter()
        self._known = _KnownBusy()  # nothing is added to the index during one search
        preferred = self._preferred_start(wanted.day, lo, hi)
        fitted = self._best_fit(wanted, lo, hi, preferred)
        if fitted is not None:
            return fitted
        # nothing fits (or the fit failed its check): the stepping search explains why, start by start
        start = lo
        while start + self.slot <= hi:
            outcome = self._try(wanted, start)
            if isinstance(outcome, PlannedSession):
                return outcome
            misses[outcome.cause] += 1
            start = _align(max(outcome.retry_at, start + self.step), lo, self.step)
        return self._explain(wanted.day, lo, hi, misses)

    def _best_fit(
        self, wanted: WantedSession, lo: datetime, hi: datetime, preferred: datetime | None
    ) -> PlannedSession | None:
        """The course's preferred start if it fits, else the best ranked start; on the chair and technician
        there that strand the least free time (ties: the course's own, then id order)."""
        low, high = lo.timestamp(), hi.timestamp()
        window_lo, window_hi, _, _ = self._day_window(wanted.day)
        window = (window_lo.timestamp(), window_hi.timestamp())
        view = _DayView(self, wanted.day, low, high, window)
        if preferred is not None:
            # the preferred start alone first: the view is built once either way (the busy index keeps each
            # resource's free time over the window), so ranking one start is all it costs
            choice = view.best([preferred.timestamp()])
            if choice is not None:
                return self._checked(wanted, from_epoch(choice[0]), choice[1], choice[2])
        choice = view.best(view.candidates())
        return None if choice is None else self._checked(wanted, from_epoch(choice[0]), choice[1], choice[2])

    def _checked(
        self, wanted: WantedSession, start: datetime, chair: ChairResource, technician: TechnicianResource
    ) -> PlannedSession | None:
        """The session, asked of the index and the shift exactly as the stepping search asks (None if refused)."""
        end = start + self.slot
        span = (start.timestamp(), end.timestamp())
        keys = (("patient", self.request.patient_id), ("chair", chair.id), ("device", chair.device_id),
                ("technician", technician.id))
        local_start = self.calendar.local_time(start)
        on_shift = technician.covers(wanted.day, local_start, _end_of(local_start, self.calendar.local_time(end)))
        if not on_shift or any(self.busy.conflict_at(key, *span) is not None for key in keys):
            return None
        return PlannedSession(wanted.index, wanted.phase_index, wanted.phase_name, wanted.phase_kind, wanted.day,
                              start, end, chair.id, chair.device_id, technician.id)

    def _preferred_start(self, day: date, lo: datetime, hi: datetime) -> datetime | None:
        """The first start time of the course's latest earlier day, on this day (one recurring slot)."""
        before = [s for s in self.placed if s.day < day]
        if not before or any(s.day == day for s in self.placed):
            return None
        latest = max(s.day for s in before)
        first = min(s.start for s in before if s.day == latest)
        start = self.calendar.to_utc(day, self.calendar.local_time(first))
        return start if lo <= start and start + self.slot <= hi else None

    def _try(self, wanted: WantedSession, start: datetime) -> PlannedSession | _Miss:
        end = start + self.slot
        span = (start.timestamp(), end.timestamp())  # the index's own units, computed once per candidate
        clash = self.busy.conflict_at(("patient", self.request.patient_id), *span)
        if clash is not None:
            return _Miss("patient", clash.end_at)
        technician = self._technician(wanted.day, start, end, span)
        if isinstance(technician, _Miss):
            return technician
        chair = self._chair(span)
        if isinstance(chair, _Miss):
            return chair
        return PlannedSession(
            wanted.index,
            wanted.phase_index,
            wanted.phase_name,
            wanted.phase_kind,
            wanted.day,
            start,
            end,
            chair.id,
            chair.device_id,
            technician.id,
        )

    def _technician(
        self, day: date, start: datetime, end: datetime, span: tuple[float, float]
    ) -> TechnicianResource | _Miss:
        local_start = self.calendar.local_time(start)
        local_end = _end_of(local_start, self.calendar.local_time(end))
        on_shift = [t for t in self._sticky(self.technicians, "technician_id") if t.covers(day, local_start, local_end)]
        if not on_shift:
            return _Miss("technician_shift", start + self.step)
        for technician in on_shift:
            key = ("technician", technician.id)
            if not self._known.busy(key, span[0]) and self._clash_end(key, span) is None:
                return technician
        # another technician may come on shift before the busy ones are free: never jump past a step
        if len(on_shift) < len(self.technicians):
            return _Miss("technician_busy", start + self.step)
        # all busy: jump to the first free moment, from each one's clash at this very start
        ends = [self._clash_end(("technician", t.id), span) for t in on_shift]
        return _Miss("technician_busy", from_epoch(min(end for end in ends if end is not None)))

    def _clash_end(self, key: ResourceKey, span: tuple[float, float]) -> float | None:
        """When the last interval overlapping ``span`` on this resource ends, or None when it is free."""
        clash = self.busy.conflict_at(key, *span)
        if clash is None:
            return None
        self._known.note(key, span[0], clash.end)
        return clash.end

    def _chair(self, span: tuple[float, float]) -> ChairResource | _Miss:
        chairs = self._sticky(self.chairs, "chair_id")
        for chair in chairs:
            keys = (("chair", chair.id), ("device", chair.device_id))
            if any(self._known.busy(key, span[0]) for key in keys):
                continue
            if all([self._clash_end(key, span) is None for key in keys]):  # a list: both are asked, both noted
                return chair
        # none free: the cause and the retry time from every chair's clashes at this very start
        retry: list[float] = []
        causes: set[str] = set()
        for chair in chairs:
            clashes = [
                (kind, self.busy.conflict_at((kind, rid), *span))
                for kind, rid in (("chair", chair.id), ("device", chair.device_id))
            ]
            busy = [(kind, c) for kind, c in clashes if c is not None]
            if not busy:
                return chair
            causes.update(kind for kind, _ in busy)
            retry.append(max(c.end for _, c in busy))
        return _Miss("chair_busy" if "chair" in causes else "device_busy", from_epoch(min(retry)))

    def _sticky(self, items: tuple[_R, ...], attr: str) -> list[_R]:
        if not self.placed:
            return list(items)
        last = getattr(self.placed[-1], attr)
        return sorted(items, key=lambda item: item.id != last)

    def _explain(self, day: date, lo: datetime, hi: datetime, misses: Counter[str]) -> list[str]:
        window = f"{self.calendar.local_time(lo):%H:%M}-{self.calendar.local_time(hi):%H:%M} on {day}"
        reasons: list[str] = []
        if misses["patient"]:
            reasons.append(
                reason(PATIENT_BUSY, f"the patient is already booked at {misses['patient']} start(s) in {window}")
            )
        if misses["technician_shift"]:
            reasons.append(reason(TECHNICIAN_SHIFT, f"no technician on shift covering a slot in {window}"))
        busy = {k: v for k, v in misses.items() if k.endswith("_busy")}
        if busy:
            detail = ", ".join(f"{k.replace('_', ' ')} at {v} start(s)" for k, v in sorted(busy.items()))
            reasons.append(reason(SLOTS_TAKEN, f"all slots taken in {window} ({detail})"))
        return reasons


def _align(moment: datetime, origin: datetime, step: timedelta) -> datetime:
    """Round ``moment`` up onto the grid origin + k·step."""
    steps = ceil((moment - origin) / step)
    return origin + steps * step


class _KnownBusy:
    """Resources one search found busy, and until when. A clash [cs, ce) found for a slot starting at s0 overlaps
    every slot of the same length starting in [s0, ce) (cs < s0 + length <= s + length and s < ce), so for
    those starts the search need not ask the index again: it skips them only where the index would say busy."""

    def __init__(self) -> None:
        self._until: dict[ResourceKey, tuple[float, float]] = {}

    def busy(self, key: ResourceKey, start: float) -> bool:
        known = self._until.get(key)
        return known is not None and known[0] <= start < known[1]

    def note(self, key: ResourceKey, start: float, clash_end: float) -> None:
        self._until[key] = (start, clash_end)


class _DayView:
    """The free gaps of the patient, every capable chair and every technician within [lo, hi) of one day.

    Each resource's free time is asked of the busy index over the day's whole search ``window`` (which holds
    [lo, hi)) and clipped: the index keeps those answers from one course to the next, and clipping them gives the
    gaps a search of [lo, hi) alone would find."""

    def __init__(self, placer: Placer, day: date, lo: float, hi: float, window: tuple[float, float]) -> None:
        busy, whole = placer.busy, (window,)
        self.lo, self.hi = lo, hi
        self.slot, self.step = placer.slot.total_seconds(), placer.step.total_seconds()
        clip = (lo, hi) != window
        # a patient's day is asked about once (by the patient's own course): not worth the index keeping
        patient = busy.free_time((("patient", placer.request.patient_id),), whole, keep=False)
        self.patient = patient.within(lo, hi) if clip else patient
        chairs = placer._sticky(placer.chairs, "chair_id")
        frees = busy.free_times([(placer.chair_keys[chair.id], whole) for chair in chairs])
        self.chairs = [(chair, free.within(lo, hi) if clip else free)
                       for chair, free in zip(chairs, frees, strict=True)]
        zone = placer.calendar.timezone
        # off shift all window long: fits nowhere, and its bookings need not be read (one off shift within [lo, hi)
        # alone has no gaps there, so it fits nowhere either)
        on_shift = [(t, shift) for t in placer._sticky(placer.technicians, "technician_id")
                    if (shift := _shift_spans(zone, day, t.shifts_on(day), *window))]
        frees = busy.free_times([(placer.technician_keys[t.id], shift) for t, shift in on_shift])
        self.technicians = [(t, free.within(lo, hi) if clip else free)
                            for (t, _), free in zip(on_shift, frees, strict=True)]

    def candidates(self) -> list[float]:
        """Starts abutting some gap's edge, earliest first."""
        frees = [free for _, free in (*self.chairs, *self.technicians)] + [self.patient]
        edges = chain.from_iterable(zip(free.starts, free.ends, strict=True) for free in frees)
        return candidate_starts(self.lo, self.hi, self.slot, self.step, edges)

    def best(self, starts: list[float]) -> tuple[float, ChairResource, TechnicianResource] | None:
        """Of these starts, the best one (see ``_rank``; the earliest of equals), with its chair and technician."""
        best: tuple[tuple[int, int, float], float, ChairResource, TechnicianResource] | None = None
        for start in starts:
            end = start + self.slot
            if self.patient.stranded(start, end, self.slot) is None:
                continue
            chairs = _fitting(self.chairs, start, end, self.slot)
            technicians = _fitting(self.technicians, start, end, self.slot)
            if not chairs or not technicians:
                continue
            chair, technician = min(chairs, key=_stranded), min(technicians, key=_stranded)
            rank = _rank(len(chairs), len(technicians), chair[0] + technician[0])
            if best is None or rank < best[0]:
                best = (rank, start, chair[1], technician[1])
        return None if best is None else best[1:]


def _rank(free_chairs: int, free_technicians: int, stranded: float) -> tuple[int, int, float]:
    """Lower is better. First the start where the scarcer of chairs and technicians has the most left free, then
    the most left free in all: a course whose window spans busy and quiet hours takes the quiet ones, and leaves
    the hours when few are free (say, when only one shift is on) to the courses whose windows hold nothing else.
    Then the least free time stranded, so the chair and technician stay packed."""
    return (-min(free_chairs, free_technicians), -(free_chairs + free_technicians), stranded)


def _fitting(resources: list[tuple[_R, FreeTime]], start: float, end: float, slot: float) -> list[tuple[float, _R]]:
    """Each resource free over [start, end), with the time the session would strand on it (in preference order)."""
    found = []
    for resource, free in resources:
        stranded = free.stranded(start, end, slot)
        if stranded is not None:
            found.append((stranded, resource))
    return found


def _stranded(fit: tuple[float, object]) -> float:
    return fit[0]


@lru_cache(maxsize=4096)
def _shift_spans(
    zone: str, day: date, pieces: tuple[tuple[time, time], ...], lo: float, hi: float
) -> tuple[tuple[float, float], ...]:
    """A technician's shift pieces on this day (in this time zone) as epoch spans, clipped to [lo, hi) (cached:
    every search asks it of every technician, and the technicians share a few shifts)."""
    spans = []
    for piece_start, piece_end in pieces:
        start = max(lo, _epoch(ZoneInfo(zone), day, piece_start))
        end = min(hi, _epoch(ZoneInfo(zone), day, piece_end))
        if start < end:
            spans.append((start, end))
    return tuple(sorted(spans))


@lru_cache(maxsize=4096)
def _epoch(zone: tzinfo, day: date, at: time) -> float:
    """A local wall-clock time on a local date as epoch seconds (cached: every search asks it of every shift)."""
    return datetime.combine(day, at, tzinfo=zone).timestamp()


def _end_of(local_start: time, local_end: time) -> time:
    # a slot ending exactly at midnight wraps to 00:00; treat it as the end of the day
    return local_end if local_end > local_start else time.max
