"""Chairs, technicians and their shifts, and existing bookings, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import NamedTuple

_NO_SHIFTS: Mapping[int, tuple[tuple[time, time], ...]] = MappingProxyType({})


@dataclass(frozen=True)
class ChairResource:
    """A treatment chair and the stimulator standing at it; ``capabilities`` are protocol ids it can run."""

    id: str
    device_id: str
    capabilities: frozenset[str]


@dataclass(frozen=True)
class TechnicianResource:
    """A technician's weekly shifts (weekday -> local (start, end) pieces) and dated days off."""

    id: str
    shifts: Mapping[int, tuple[tuple[time, time], ...]] = field(default_factory=lambda: _NO_SHIFTS)
    days_off: frozenset[date] = frozenset()

    def shifts_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """The local shift pieces worked on this date (empty on a day off)."""
        if day in self.days_off:
            return ()
        return self.shifts.get(day.weekday(), ())

    def covers(self, day: date, start: time, end: time) -> bool:
        """True when one shift piece on this day covers the local interval [start, end)."""
        # A plain loop: the planner asks this of every technician at every slot it tries (millions in a network).
        if day in self.days_off:
            return False
        for piece_start, piece_end in self.shifts.get(day.weekday(), ()):
            if piece_start <= start and end <= piece_end:
                return True
        return False


def weekly_shifts(
    start: time, end: time, weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
) -> Mapping[int, tuple[tuple[time, time], ...]]:
    """One shift piece on each of the given weekdays (0 = Monday)."""
    return MappingProxyType({d: ((start, end),) for d in weekdays})


ResourceKey = tuple[str, str]  # (kind, id): ("chair", "c1"), ("technician", "t2"), ...


class HeldSpan(NamedTuple):
    """A booking as the busy index keeps it: UTC epoch seconds [start, end), the resources it holds, its id.

    The plain form a loader hands over: a database loader computes the numbers in SQL, so the thousands of
    rows one plan reads are never turned into datetimes and back.
    """

    start: float
    end: float
    keys: tuple[ResourceKey, ...]
    booking_id: str | None = None


@dataclass(frozen=True)
class HeldBooking:
    """An existing booking: a UTC half-open interval holding a chair, a device, a technician and a patient."""

    start: datetime
    end: datetime
    chair_id: str | None = None
    device_id: str | None = None
    technician_id: str | None = None
    patient_id: str | None = None
    booking_id: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("booking instants must be time-zone aware (UTC)")
        if self.end <= self.start:
            raise ValueError(f"booking ends before it starts: {self.start} .. {self.end}")

    def resource_keys(self) -> tuple[ResourceKey, ...]:
        """The (kind, id) of every resource this booking holds."""
        # Plain tests, not a generator: the planner asks this of every booking it loads (thousands per plan).
        keys: list[ResourceKey] = []
        if self.chair_id is not None:
            keys.append(("chair", self.chair_id))
        if self.device_id is not None:
            keys.append(("device", self.device_id))
        if self.technician_id is not None:
            keys.append(("technician", self.technician_id))
        if self.patient_id is not None:
            keys.append(("patient", self.patient_id))
        return tuple(keys)


@dataclass(frozen=True)
class Resources:
    """What a clinic can book: its chairs (with devices) and technicians."""

    chairs: tuple[ChairResource, ...]
    technicians: tuple[TechnicianResource, ...]

    def chairs_for(self, protocol: str) -> tuple[ChairResource, ...]:
        """Chairs whose device can run this protocol, in id order (deterministic)."""
        return tuple(sorted((c for c in self.chairs if protocol in c.capabilities), key=lambda c: c.id))

    def technicians_sorted(self) -> tuple[TechnicianResource, ...]:
        """Technicians in id order (deterministic)."""
        return tuple(sorted(self.technicians, key=lambda t: t.id))

