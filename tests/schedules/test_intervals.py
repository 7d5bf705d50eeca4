"""Half-open overlap and the busy index, checked against brute force."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedules.intervals import BusyIndex, overlaps
from schedules.resources import HeldBooking, HeldSpan
from tests.builders.schedules import booking, utc

T0 = utc(2025, 11, 17, 13)


def at(minutes: int) -> object:
    return T0 + timedelta(minutes=minutes)


def test_half_open_intervals_touching_do_not_overlap() -> None:
    assert not overlaps(at(0), at(30), at(30), at(60))
    assert not overlaps(at(30), at(60), at(0), at(30))
    assert overlaps(at(0), at(31), at(30), at(60))
    assert overlaps(at(0), at(60), at(10), at(20))
    assert overlaps(at(10), at(20), at(0), at(60))


def test_index_finds_the_conflict_that_ends_last() -> None:
    index = BusyIndex()
    index.add(("chair", "c1"), at(0), at(30), "a")
    index.add(("chair", "c1"), at(20), at(90), "b")
    clash = index.conflict(("chair", "c1"), at(25), at(26))
    assert clash is not None and clash.label == "b" and clash.end_at == at(90)
    assert index.is_free(("chair", "c1"), at(90), at(120))
    assert index.is_free(("chair", "c2"), at(0), at(30))


def test_interval_spanning_bucket_edges_is_found_in_every_bucket() -> None:
    index = BusyIndex(bucket_seconds=3600)
    index.add(("tech", "t"), at(0), at(24 * 60), None)
    assert not index.is_free(("tech", "t"), at(17 * 60), at(17 * 60 + 1))


def test_overlay_never_changes_its_parent() -> None:
    parent = BusyIndex()
    child = parent.overlay()
    child.add(("chair", "c1"), at(0), at(30))
    assert not child.is_free(("chair", "c1"), at(0), at(30))
    assert parent.is_free(("chair", "c1"), at(0), at(30))
    assert (len(parent), len(child)) == (0, 1)


def test_booking_holds_each_named_resource() -> None:
    index = BusyIndex.from_bookings([booking(at(0), 30, chair_id="c1", technician_id="t1", patient_id="p1")])
    for key in (("chair", "c1"), ("technician", "t1"), ("patient", "p1")):
        assert not index.is_free(key, at(10), at(20))
    assert index.is_free(("device", "d1"), at(10), at(20))


def test_empty_or_naive_intervals_are_refused() -> None:
    with pytest.raises(ValueError):
        BusyIndex().add(("chair", "c1"), at(10), at(10))
    with pytest.raises(ValueError):
        HeldBooking(at(10), at(0), chair_id="c1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        HeldBooking(T0.replace(tzinfo=None), at(10), chair_id="c1")  # type: ignore[arg-type]


spans = st.tuples(st.integers(0, 3 * 24 * 60), st.integers(1, 600))


@given(existing=st.lists(spans, max_size=30), query=spans, width=st.sampled_from([900, 3600, 21600, 86400]))
def test_index_agrees_with_brute_force(existing: list[tuple[int, int]], query: tuple[int, int], width: int) -> None:
    index = BusyIndex(bucket_seconds=width)
    for n, (start, length) in enumerate(existing):
        index.add(("chair", "c"), at(start), at(start + length), str(n))
    q_start, q_length = query
    hits = [
        start + length for start, length in existing
        if overlaps(at(start), at(start + length), at(q_start), at(q_start + q_length))
    ]
    clash = index.conflict(("chair", "c"), at(q_start), at(q_start + q_length))
    if not hits:
        assert clash is None
    else:
        assert clash is not None and clash.end_at == at(max(hits))


class RecordingLoader:
    """A loader over a fixed list of bookings that records the spans it was asked for."""

    def __init__(self, bookings: list[HeldBooking]) -> None:
        self.bookings = bookings
        self.calls: list[list[tuple[object, object]]] = []

    def __call__(self, spans: object) -> list[HeldSpan]:
        asked = list(spans)  # type: ignore[call-overload]
        self.calls.append(asked)
        return [HeldSpan(b.start.timestamp(), b.end.timestamp(), b.resource_keys(), b.booking_id)
                for b in self.bookings if any(overlaps(b.start, b.end, s, e) for s, e in asked)]


def test_prefetch_loads_in_one_call_and_queries_inside_it_load_nothing() -> None:
    held = [booking(at(0), 45, chair_id="c1", booking_id="a"), booking(at(170), 30, chair_id="c1", booking_id="b")]
    loader = RecordingLoader(held)
    index = BusyIndex(loader=loader)
    index.prefetch([(at(0), at(60)), (at(120), at(180))])
    assert loader.calls == [[(at(0), at(60)), (at(120), at(180))]]
    assert not index.overlay().is_free(("chair", "c1"), at(30), at(40))
    assert index.is_free(("chair", "c1"), at(120), at(160))
    assert len(loader.calls) == 1
    assert not index.is_free(("chair", "c1"), at(150), at(190))  # reaches past the loaded span: loads the rest
    assert loader.calls[1] == [(at(180), at(190))]
    index.prefetch([(at(0), at(200))])  # "b" overlaps two loads: held once
    assert len(index) == 2


@given(existing=st.lists(spans, max_size=30), loads=st.lists(spans, max_size=4), queries=st.lists(spans, max_size=6),
       width=st.sampled_from([900, 3600, 21600]))
def test_index_that_loads_what_it_is_asked_agrees_with_one_holding_everything(
    existing: list[tuple[int, int]], loads: list[tuple[int, int]], queries: list[tuple[int, int]], width: int
) -> None:
    held = [booking(at(start), length, chair_id="c", booking_id=str(n)) for n, (start, length) in enumerate(existing)]
    whole = BusyIndex.from_bookings(held, bucket_seconds=width)
    lazy = BusyIndex(bucket_seconds=width, loader=RecordingLoader(held))
    lazy.prefetch([(at(start), at(start + length)) for start, length in loads])
    for start, length in queries:
        expected = whole.conflict(("chair", "c"), at(start), at(start + length))
        found = lazy.overlay().conflict(("chair", "c"), at(start), at(start + length))
        assert (found and found.end) == (expected and expected.end)
