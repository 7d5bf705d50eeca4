"""Half-open time intervals and a bucketed index of busy intervals per resource.

The index answers "is chair 3 free over [s, e)?" by scanning only the time buckets the query touches,
so a clinic with a year of bookings costs the same per query as an empty one. Given a loader, the index
holds nothing up front and loads the bookings over each span the first time a query or a prefetch reaches
it, so planning one course reads only the days and hours that course can use.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from schedules.fit import FreeTime, Gap, free_gaps
from schedules.resources import HeldBooking, HeldSpan, ResourceKey

Span = tuple[datetime, datetime]  # UTC half-open [start, end)
# Every held booking overlapping any of the spans (more is harmless: the index keeps each booking id once).
Loader = Callable[[Sequence[Span]], Iterable[HeldSpan]]

DEFAULT_BUCKET_SECONDS = 6 * 3600

_Query = tuple[tuple[ResourceKey, ...], tuple[Gap, ...]]  # resources taken together, and the spans asked about


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """True when half-open [a_start, a_end) and [b_start, b_end) share an instant (touching ends do not)."""
    return a_start < b_end and b_start < a_end


class Busy(NamedTuple):
    """One busy interval of a resource, in UTC epoch seconds, with an optional label (booking id).

    A named tuple rather than a frozen dataclass: an index is built from thousands of these per plan, and a
    frozen dataclass's constructor costs several times a tuple's.
    """

    start: float
    end: float
    label: str | None = None

    @property
    def start_at(self) -> datetime:
        """The start as an aware UTC datetime."""
        return from_epoch(self.start)

    @property
    def end_at(self) -> datetime:
        """The end as an aware UTC datetime."""
        return from_epoch(self.end)


class Coverage:
    """Disjoint half-open spans of epoch seconds already loaded, kept sorted and merged."""

    def __init__(self) -> None:
        self._starts: list[float] = []
        self._ends: list[float] = []

    def covers(self, start: float, end: float) -> bool:
        """True when one loaded span holds all of [start, end)."""
        n = bisect_right(self._starts, start) - 1
        return n >= 0 and self._ends[n] >= end

    def missing(self, spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
        """The parts of these spans not loaded yet, sorted and merged."""
        pieces: list[tuple[float, float]] = []
        for start, end in spans:
            n = max(bisect_right(self._starts, start) - 1, 0)
            at = start
            while at < end and n < len(self._starts) and self._starts[n] < end:
                if self._starts[n] > at:
                    pieces.append((at, self._starts[n]))
                at = max(at, self._ends[n])
                n += 1
            if at < end:
                pieces.append((at, end))
        return _merged(pieces)

    def add(self, spans: Iterable[tuple[float, float]]) -> None:
        """Mark these spans loaded."""
        merged = _merged([*zip(self._starts, self._ends, strict=True), *spans])
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]


def _merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


class BusyIndex:
    """Busy intervals per resource, bucketed by time; an overlay sees its parent's intervals plus its own."""

    def __init__(
        self, bucket_seconds: int = DEFAULT_BUCKET_SECONDS, parent: BusyIndex | None = None,
        loader: Loader | None = None,
    ) -> None:
        self._width: int = parent._width if parent is not None else bucket_seconds
        self._parent = parent
        # root first: a query walks this instead of recursing through the parents
        self._chain: tuple[BusyIndex, ...] = (*(parent._chain if parent is not None else ()), self)
        self._overlays = self._chain[1:]
        self._buckets: defaultdict[tuple[ResourceKey, int], list[Busy]] = defaultdict(list)
        self._count = 0
        self._keys: set[ResourceKey] = set()  # every resource this overlay itself holds an interval of
        self._loader = loader if parent is None else None
        self._loaded = Coverage()
        self._loaded_ids: set[str] = set()
        # free time answered (root only), and each answer listed under the buckets of each resource it covers, so
        # a booking finds the few answers it changes
        self._free: dict[_Query, FreeTime] = {}
        self._free_by_bucket: defaultdict[tuple[ResourceKey, int], list[_Query]] = defaultdict(list)

    @classmethod
    def from_bookings(cls, bookings: Iterable[HeldBooking], bucket_seconds: int = DEFAULT_BUCKET_SECONDS) -> BusyIndex:
        """An index holding every resource of every booking."""
        index = cls(bucket_seconds)
        for booking in bookings:
            index.add_booking(booking)
        return index

    def overlay(self) -> BusyIndex:
        """A child index for tentative additions; the parent is never changed through it."""
        return BusyIndex(parent=self)

    def __len__(self) -> int:
        return self._count + (len(self._parent) if self._parent is not None else 0)

    def add(self, key: ResourceKey, start: datetime, end: datetime, label: str | None = None) -> None:
        """Mark a resource busy over [start, end)."""
        self._put((key,), Busy(start.timestamp(), end.timestamp(), label))

    def add_booking(self, booking: HeldBooking) -> None:
        """Mark every resource of a booking busy (one shared interval record)."""
        self._put(booking.resource_keys(), Busy(booking.start.timestamp(), booking.end.timestamp(), booking.booking_id))

    @property
    def loads(self) -> bool:
        """True when the index loads bookings as queries reach them (False: everything was added up front)."""
        return self._chain[0]._loader is not None

    def prefetch(self, spans: Iterable[Span]) -> None:
        """Load what the loader holds over these spans in one call (queries inside them then load nothing)."""
        root = self._chain[0]
        if root._loader is not None:  # an index built up front has nothing to load
            root._load([(s.timestamp(), e.timestamp()) for s, e in spans])

    def _load(self, spans: Sequence[tuple[float, float]]) -> None:
        if self._loader is None:
            return
        missing = self._loaded.missing(spans)
        if not missing:
            return
        seen, put = self._loaded_ids, self._put
        for start, end, keys, label in self._loader([(from_epoch(s), from_epoch(e)) for s, e in missing]):
            if label is not None:
                if label in seen:
                    continue
                seen.add(label)
            put(keys, Busy(start, end, label))
        self._loaded.add(missing)

    def _put(self, keys: tuple[ResourceKey, ...], busy: Busy) -> None:
        if busy.end <= busy.start:
            raise ValueError(f"empty or reversed interval for {keys}: {busy.start_at} .. {busy.end_at}")
        buckets = self._bucket_range(busy.start, busy.end)
        for key in keys:
            for bucket in buckets:
                self._buckets[(key, bucket)].append(busy)
        self._count += len(keys)
        if self._parent is not None:  # only an overlay is asked what it holds (a root loads many thousands)
            self._keys.update(keys)
        elif self._free:
            self._take_free(keys, buckets, busy)

    def _take_free(self, keys: tuple[ResourceKey, ...], buckets: range, busy: Busy) -> None:
        """Take this interval out of the kept free time of these resources wherever their domain overlaps it
        (the same gaps a fresh answer would hold: the free time left is split, never merged)."""
        done: set[_Query] = set()
        listed = self._free_by_bucket
        for key in keys:
            for bucket in buckets:
                for query in listed.get((key, bucket), ()):
                    domain = query[1]
                    if query in done or not (domain[0][0] < busy.end and busy.start < domain[-1][1]):
                        continue
                    done.add(query)
                    left = self._free[query]
                    gaps = zip(left.starts, left.ends, strict=True)
                    self._free[query] = FreeTime(free_gaps(gaps, [(busy.start, busy.end)]))

    def conflict(self, key: ResourceKey, start: datetime, end: datetime) -> Busy | None:
        """The overlapping busy interval that ends last, or None when the resource is free over [start, end)."""
        return self.conflict_at(key, start.timestamp(), end.timestamp())

    def is_free(self, key: ResourceKey, start: datetime, end: datetime) -> bool:
        """True when nothing overlaps [start, end) on this resource."""
        return self.conflict(key, start, end) is None

    def conflict_at(self, key: ResourceKey, start: float, end: float) -> Busy | None:
        """``conflict`` over [start, end) in UTC epoch seconds (a planner asks thousands of these per course)."""
        found: Busy | None = None
        buckets = self._bucket_range(start, end)
        for index in self._chain:
            if index._loader is not None and not index._loaded.covers(start, end):
                index._load([(start, end)])
            held = index._buckets
            for bucket in buckets:
                for busy in held.get((key, bucket), ()):
                    if busy.start < end and start < busy.end and (found is None or busy.end > found.end):
                        found = busy
        return found

    def busy_between(self, keys: tuple[ResourceKey, ...], start: float, end: float) -> list[tuple[float, float]]:
        """Every busy interval of these resources (say, a chair and its device) overlapping [start, end) in epoch
        seconds, sorted, each once (an interval crossing a bucket edge is held in both buckets)."""
        found: set[tuple[float, float]] = set()
        buckets = self._bucket_range(start, end)
        for index in self._chain:
            if index._loader is not None and not index._loaded.covers(start, end):
                index._load([(start, end)])
            held = index._buckets
            for key in keys:
                for bucket in buckets:
                    for busy in held.get((key, bucket), ()):
                        if busy.start < end and start < busy.end:
                            found.add((busy.start, busy.end))
        return sorted(found)

    def free_time(self, keys: tuple[ResourceKey, ...], domain: tuple[Gap, ...], keep: bool = True) -> FreeTime:
        """The free gaps of these resources taken together (a chair and its device) within the domain spans (sorted,
        disjoint, in epoch seconds).

        The root index keeps each answer, and a booking of one of these resources takes its interval out of the
        answers it overlaps: a network's week re-plan asks the same resources about the same windows course after
        course, and each course takes only a chair, a technician and its patient. Where an overlay holds bookings
        of these resources there, the answer is worked out afresh (it is the overlay's own), and so it is with
        ``keep`` false, for what is asked only once (a patient's day). An index that loads as it is asked (one
        request's) keeps nothing: it is asked about each day once, and each booking it loads later would have to
        be taken out of the kept answers."""
        if not domain:
            return FreeTime([])
        lo, hi = domain[0][0], domain[-1][1]
        if not keep or self.loads or any(index._holds(keys, lo, hi) for index in self._overlays):
            return FreeTime(free_gaps(domain, self.busy_between(keys, lo, hi)))
        root, query = self._chain[0], (keys, domain)
        found = root._free.get(query)
        if found is None:
            found = root._free[query] = FreeTime(free_gaps(domain, root.busy_between(keys, lo, hi)))
            for key in keys:
                for bucket in root._bucket_range(lo, hi):
                    root._free_by_bucket[(key, bucket)].append(query)
        return found

    def free_times(self, asked: Iterable[_Query]) -> list[FreeTime]:
        """``free_time`` of each (resources, domain) asked (a day view asks it of every chair and technician, and
        where no overlay holds those resources at all, a kept answer is one lookup)."""
        kept, overlays = self._chain[0]._free, self._overlays
        held = set().union(*(index._keys for index in overlays))
        found = []
        for keys, domain in asked:
            answer = kept.get((keys, domain))
            if answer is None or (not held.isdisjoint(keys)
                                  and any(index._holds(keys, domain[0][0], domain[-1][1]) for index in overlays)):
                answer = self.free_time(keys, domain)
            found.append(answer)
        return found

    def _holds(self, keys: tuple[ResourceKey, ...], start: float, end: float) -> bool:
        """True when this index itself (not its parents) holds an interval of these resources overlapping
        [start, end)."""
        if self._keys.isdisjoint(keys):
            return False
        held, buckets = self._buckets, self._bucket_range(start, end)
        for key in keys:
            for bucket in buckets:
                for busy in held.get((key, bucket), ()):
                    if busy.start < end and start < busy.end:
                        return True
        return False

    def _bucket_range(self, start: float, end: float) -> range:
        # end is exclusive, so an interval ending exactly on a bucket edge stays out of the next bucket
        return range(int(start // self._width), int(-(-end // self._width)))


def from_epoch(epoch: float) -> datetime:
    """UTC epoch seconds (the index's units) as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, tz=UTC)
