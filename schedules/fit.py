"""Best fit: of the starts where a session fits, prefer the one that leaves no unusable sliver of free time.

First fit (the earliest start on the first free chair and technician) fragments a clinic: a session started
15 minutes after a chair's last booking leaves 15 minutes no session can use, and in a clinic booked on a
slot grid one off-grid session blocks two grid slots. Here each chair and technician is seen as its free
gaps within the window (a technician's also cut by the shift), and a start is scored by the free time it
strands: the pieces before and after it on the chosen chair and technician that are shorter than one slot.
All times are epoch seconds, the busy index's units.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from math import ceil, floor

Gap = tuple[float, float]  # a free half-open span [start, end)


def free_gaps(domain: Iterable[Gap], busy: Sequence[tuple[float, float]]) -> list[Gap]:
    """The parts of the domain spans (sorted, disjoint) that no busy interval (sorted by start) covers."""
    gaps: list[Gap] = []
    for lo, hi in domain:
        at = lo
        for start, end in busy:
            if end <= at or start >= hi:
                continue
            if start > at:
                gaps.append((at, start))
            at = max(at, end)
        if at < hi:
            gaps.append((at, hi))
    return gaps


class FreeTime:
    """One resource's free gaps, answering "does [s, e) fit, and how much time would it strand?".

    The gaps are kept as two flat lists of floats rather than a list of pairs: the busy index keeps thousands of
    these answers alive, and floats in a list are nothing to the garbage collector while every pair is an object
    it must walk."""

    __slots__ = ("starts", "ends")

    def __init__(self, gaps: Sequence[Gap]) -> None:
        self.starts = [g[0] for g in gaps]
        self.ends = [g[1] for g in gaps]

    @property
    def gaps(self) -> list[Gap]:
        """The gaps as [start, end) pairs, earliest first."""
        return list(zip(self.starts, self.ends, strict=True))

    def within(self, lo: float, hi: float) -> FreeTime:
        """The same free time seen only within [lo, hi) (the gaps a search over that span alone would find)."""
        first = max(bisect_right(self.starts, lo) - 1, 0)
        last = bisect_left(self.starts, hi)
        gaps = [(max(a, lo), min(b, hi)) for a, b in zip(self.starts[first:last], self.ends[first:last], strict=True)
                if max(a, lo) < min(b, hi)]
        return FreeTime(gaps)

    def stranded(self, start: float, end: float, slot: float) -> float | None:
        """The free time left before and after [start, end) in its gap that is too short for a slot (0 when
        the session abuts its neighbours or leaves room for whole slots), or None when it does not fit."""
        n = bisect_right(self.starts, start) - 1
        if n < 0:
            return None
        gap_end = self.ends[n]
        if end > gap_end:
            return None
        before, after = start - self.starts[n], gap_end - end
        return (before if before < slot else 0.0) + (after if after < slot else 0.0)


def candidate_starts(lo: float, hi: float, slot: float, step: float, edges: Iterable[Gap]) -> list[float]:
    """Starts on the step grid from ``lo`` that abut a gap's start or end: a best start is always among them
    (or is as good as one of them), and the earliest feasible start is too (it begins where some gap begins)."""
    found = {lo}
    last = hi - slot
    for gap_start, gap_end in edges:
        # on the grid: the first start at or after the gap's start, the last one ending by the gap's end
        after_start = lo + ceil((gap_start - lo) / step - 1e-9) * step
        before_end = lo + floor((gap_end - slot - lo) / step + 1e-9) * step
        for at in (after_start, before_end):
            if lo <= at <= last:
                found.add(at)
    return sorted(found)
