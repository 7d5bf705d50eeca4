"""Property tests: nothing is dropped, nothing double-booked, every miss explained."""

from __future__ import annotations

from datetime import date, time, timedelta
from itertools import combinations
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedules import slots
from schedules.intervals import overlaps
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
    AuthorizationLimit,
    TimeWindow,
)
from schedules.planner import plan_course, replan_missed
from schedules.resources import HeldBooking, Resources, TechnicianResource, weekly_shifts
from tests.builders.schedules import TODAY, chairs, clinic, request

CAL = clinic()
CODES = {AUTHORIZATION_END, AUTHORIZATION_START, AUTHORIZATION_UNITS, CALENDAR, CAPABILITY, DAILY_LIMIT, INTERVAL,
         PAST, PATIENT_BUSY, SLOTS_TAKEN, TECHNICIAN_SHIFT, WINDOW}
FIRST_DAY = date(2025, 11, 17)


@st.composite
def existing_bookings(draw: st.DrawFn) -> list[HeldBooking]:
    out = []
    for n in range(draw(st.integers(0, 60))):
        day = FIRST_DAY + timedelta(days=draw(st.integers(0, 30)))
        start = CAL.to_utc(day, time(7)) + timedelta(minutes=5 * draw(st.integers(0, 140)))
        holder = draw(st.sampled_from(["chair_id", "device_id", "technician_id", "patient_id"]))
        value = {"chair_id": "c", "device_id": "d", "technician_id": "t", "patient_id": "p"}[holder]
        resource = f"{value}{draw(st.integers(0, 2))}" if holder != "patient_id" else "p1"
        out.append(HeldBooking(start, start + timedelta(minutes=draw(st.integers(10, 240))), booking_id=f"b{n}",
                           **{holder: resource}))  # type: ignore[arg-type]
    return out


clinic_resources = st.builds(
    lambda n_chairs, shifts: Resources(
        chairs(n_chairs),
        tuple(TechnicianResource(f"t{n}", weekly_shifts(time(s), time(s + 6))) for n, s in enumerate(shifts)),
    ),
    st.integers(1, 3),
    st.lists(st.integers(7, 12), min_size=1, max_size=3),
)
windows = st.builds(lambda a, length: TimeWindow(time(a), time(min(a + length, 23))), st.integers(6, 16),
                    st.integers(1, 8))
authorizations = st.none() | st.builds(
    lambda end, units: AuthorizationLimit(date(2025, 11, 1), FIRST_DAY + timedelta(days=end), units),
    st.integers(10, 90), st.integers(5, 60),
)
templates = st.sampled_from(["standard-36", "medicare-20", "deep-tms-h1", "accelerated-saint"])


def clashes(sessions: list[tuple[object, object, tuple[tuple[str, str], ...]]]) -> list[tuple[int, int]]:
    found = []
    for (i, a), (j, b) in combinations(enumerate(sessions), 2):
        if set(a[2]) & set(b[2]) and overlaps(a[0], a[1], b[0], b[1]):  # type: ignore[arg-type]
            found.append((i, j))
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates, existing=existing_bookings(), res=clinic_resources, window=windows,
       auth=authorizations)
def test_plan_accounts_for_every_session_and_never_double_books(
    template: str, existing: list[HeldBooking], res: Resources, window: TimeWindow, auth: AuthorizationLimit | None
) -> None:
    req = request(template, FIRST_DAY, protocol="itbs", minutes=10, buffer=10, window=window, authorization=auth)
    result = plan_course(req, CAL, res, existing, TODAY)
    assert result.indices == tuple(range(1, req.total_sessions + 1))
    for miss in result.unplaced:
        assert miss.reasons and set(miss.codes) <= CODES
    mine = [(s.start, s.end, (("chair", s.chair_id), ("device", s.device_id), ("technician", s.technician_id),
                              ("patient", "p1"))) for s in result.placed]
    theirs = [(b.start, b.end, b.resource_keys()) for b in existing]
    assert not [pair for pair in clashes(mine + theirs) if pair[0] < len(mine)]
    for s in result.placed:
        assert CAL.is_open(s.day) and window.start <= CAL.local_time(s.start) and CAL.local_time(s.end) <= window.end
        assert auth is None or auth.start <= s.day <= auth.end
    assert auth is None or len(result.placed) <= auth.units


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates, res=clinic_resources, missed=st.integers(1, 36), auth=authorizations)
def test_replan_keeps_every_session_accounted_for(
    template: str, res: Resources, missed: int, auth: AuthorizationLimit | None
) -> None:
    req = request(template, FIRST_DAY, protocol="itbs", minutes=10, buffer=10, authorization=auth)
    plan = plan_course(req, CAL, res, [], TODAY)
    placed = {s.index: s for s in plan.placed}
    if missed not in placed:
        return
    today = placed[missed].day + timedelta(days=1)
    replanned = replan_missed(req, plan, missed, CAL, res, [], today)
    assert replanned.result.indices == tuple(range(1, req.total_sessions + 1))
    mine = [(s.start, s.end, (("chair", s.chair_id), ("technician", s.technician_id), ("patient", "p1")))
            for s in replanned.result.placed]
    assert clashes(mine) == []
    if replanned.makeup is not None:
        assert replanned.makeup.day >= today
        assert auth is None or replanned.makeup.day <= auth.end


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates, existing=existing_bookings(), res=clinic_resources, window=windows,
       auth=authorizations)
def test_skipping_resources_a_search_already_found_busy_changes_no_plan(
    template: str, existing: list[HeldBooking], res: Resources, window: TimeWindow, auth: AuthorizationLimit | None
) -> None:
    """The search remembers which resources it found busy, and until when, and skips asking the index again; the
    plan, every reason included, is the one it makes asking the index every time."""
    req = request(template, FIRST_DAY, protocol="itbs", minutes=10, buffer=10, window=window, authorization=auth)
    remembering = plan_course(req, CAL, res, existing, TODAY)
    with patch.object(slots._KnownBusy, "busy", lambda self, key, start: False):
        asking = plan_course(req, CAL, res, existing, TODAY)
    assert remembering == asking
