"""replan_missed: the missed session goes to the end of its phase, inside the authorization, or is warned."""

from __future__ import annotations

from datetime import date, time

import pytest

from schedules.plan import AUTHORIZATION_END, AUTHORIZATION_UNITS, AuthorizationLimit
from schedules.planner import plan_course, replan_missed
from tests.builders.schedules import TODAY, booking, clinic, request, resources

CAL = clinic()
WIDE = AuthorizationLimit(date(2025, 11, 1), date(2026, 3, 31), units=36)


def test_missed_acute_session_moves_to_the_end_of_acute_and_taper_follows() -> None:
    req = request(authorization=WIDE)
    plan = plan_course(req, CAL, resources(), [], TODAY)
    replanned = replan_missed(req, plan, 5, CAL, resources(), [], date(2025, 11, 21))
    result, makeup = replanned.result, replanned.makeup
    assert makeup is not None and makeup.index == 5 and makeup.phase_name == "acute"
    acute_days = [s.day for s in result.placed if s.phase_name == "acute" and s.index != 5]
    taper_days = [s.day for s in result.placed if s.phase_name == "taper"]
    assert makeup.day == date(2025, 12, 31) and makeup.day > max(acute_days)
    assert min(taper_days) > makeup.day and len(taper_days) == 6
    assert result.indices == tuple(range(1, 37)) and result.unplaced == () and result.warnings == ()
    assert replanned.changed == (5, 31, 32, 33, 34, 35, 36)


def test_replan_that_crosses_the_authorization_end_warns_before_it_happens() -> None:
    auth = AuthorizationLimit(date(2025, 11, 1), date(2026, 1, 14), units=36)
    req = request(authorization=auth)
    plan = plan_course(req, CAL, resources(), [], TODAY)
    assert plan.unplaced == ()  # the original plan just fits: last taper session on 14 Jan
    replanned = replan_missed(req, plan, 12, CAL, resources(), [], date(2025, 12, 3))
    pushed = [u for u in replanned.result.unplaced if AUTHORIZATION_END in u.codes]
    assert pushed and all(u.phase == "taper" for u in pushed)
    assert any("re-planning missed session 12" in w and "authorization end" in w for w in replanned.result.warnings)
    assert replanned.result.indices == tuple(range(1, 37))


def test_makeup_itself_past_the_authorization_end_is_unplaced_with_the_reason() -> None:
    auth = AuthorizationLimit(date(2025, 11, 1), date(2025, 12, 30), units=30)
    req = request("standard-36", authorization=auth)
    plan = plan_course(req, CAL, resources(), [], TODAY)
    replanned = replan_missed(req, plan, 30, CAL, resources(), [], date(2025, 12, 30))
    assert replanned.makeup is None
    missed = next(u for u in replanned.result.unplaced if u.index == 30)
    assert AUTHORIZATION_END in missed.codes
    assert any("session 30" in w for w in replanned.result.warnings)


def test_units_already_used_stop_the_makeup() -> None:
    # 10 delivered and counted, the missed one not; 26 planned ahead: the make-up needs unit 37 of 36
    auth = AuthorizationLimit(date(2025, 11, 1), date(2026, 3, 31), units=36, units_used=0)
    req = request(authorization=auth)
    plan = plan_course(req, CAL, resources(), [], TODAY)
    used = AuthorizationLimit(auth.start, auth.end, units=35, units_used=10)
    replanned = replan_missed(request(authorization=used), plan, 11, CAL, resources(), [], date(2025, 12, 2))
    assert any(AUTHORIZATION_UNITS in u.codes for u in replanned.result.unplaced)
    assert any("authorized units" in w for w in replanned.result.warnings)


def test_missed_taper_session_keeps_the_taper_spacing() -> None:
    req = request(authorization=WIDE)
    plan = plan_course(req, CAL, resources(), [], TODAY)
    last_taper = max(s.day for s in plan.placed if s.phase_name == "taper")
    replanned = replan_missed(req, plan, 32, CAL, resources(), [], date(2026, 1, 5))
    assert replanned.makeup is not None
    assert (replanned.makeup.day - last_taper).days >= 2
    assert replanned.changed == (32,)


def test_makeup_skips_a_full_day_and_says_nothing_was_lost() -> None:
    req = request(authorization=WIDE)
    plan = plan_course(req, CAL, resources(1, 1), [], TODAY)
    full = [booking(CAL.to_utc(date(2025, 12, 31), time(8)), 600, chair_id="c0")]
    replanned = replan_missed(req, plan, 3, CAL, resources(1, 1), full, date(2025, 11, 20))
    assert replanned.makeup is not None and replanned.makeup.day == date(2026, 1, 2)
    assert replanned.result.indices == tuple(range(1, 37))


def test_replan_does_not_double_book_the_kept_sessions() -> None:
    req = request(authorization=WIDE)
    plan = plan_course(req, CAL, resources(1, 1), [], TODAY)
    result = replan_missed(req, plan, 2, CAL, resources(1, 1), [], date(2025, 11, 19)).result
    spans = sorted((s.start, s.end) for s in result.placed)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


def test_missed_accelerated_session_goes_to_the_day_after_the_phase() -> None:
    req = request("accelerated-saint", protocol="itbs", minutes=10, buffer=10)
    plan = plan_course(req, CAL, resources(), [], TODAY)
    replanned = replan_missed(req, plan, 4, CAL, resources(), [], date(2025, 11, 11))
    # the phase ends Fri 21 Nov with 10 sessions, so the make-up goes to Mon 24 Nov
    assert replanned.makeup is not None and replanned.makeup.day == date(2025, 11, 24)
    assert replanned.result.indices == tuple(range(1, 51))


def test_unknown_missed_index_is_refused() -> None:
    req = request()
    plan = plan_course(req, CAL, resources(), [], TODAY)
    with pytest.raises(ValueError, match="not a placed session"):
        replan_missed(req, plan, 99, CAL, resources(), [], TODAY)
