"""The Medicare-style extension on a live course: read from the stored PHQ-9 scores at about session 20,
applied by a psychiatrist, replacing the taper (kept, marked) with 10 daily + a 6-session taper that is
planned and booked after the sessions the course still holds. Both databases.

The 20 delivered sessions are set up by moving their bookings to completed through the booking service (the
delivery path itself is tested in tests/agent); the rule reads completed bookings and stored assessments.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from service.audit.service import SYSTEM
from service.bookings import service as booking_service
from service.core.clock import FrozenClock, as_utc
from service.core.db import session_scope
from service.models.audit import AuditEvent
from service.models.bookings import Booking, BookingStatus
from tests.builders.clinic import WRITE, Clinic, error_field, ok, ready_clinic
from tests.conftest import T0, Tenant


def phq9(total: int) -> list[int | None]:
    items = [min(3, max(0, total - 3 * i)) for i in range(8)]
    return [*items, 0, None]


def score(client: Any, patient_id: int, course_id: int, total: int, at: str) -> dict[str, Any]:
    return dict(ok(client.post(f"/api/v1/patients/{patient_id}/assessments", json={
        "instrument": "PHQ-9", "administered_at": at, "items": phq9(total), "course_id": course_id}), 201))


def deliver(tenant: Tenant, course_id: int, upto: int) -> Booking:
    """Mark sessions 1..upto delivered; returns the last one."""
    with session_scope(tenant.app.state.engine) as s:
        rows = s.exec(select(Booking).where(Booking.course_id == course_id, Booking.sequence <= upto)
                      .order_by(Booking.sequence)).all()
        for b in rows:
            when = as_utc(b.end_at)
            booking_service.transition(s, SYSTEM, b, BookingStatus.in_progress, None, when)
            booking_service.transition(s, SYSTEM, b, BookingStatus.completed, None, when)
        last = rows[-1]
        s.expunge(last)
        return last


def medicare_course(clinic: Clinic) -> dict[str, Any]:
    course = clinic.course(template_id="medicare-20")
    clinic.authorization(course["id"], sessions=41, end="2027-06-30")
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status", json={"status": "active", "reason": "start TMS"}))
    booked = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={}))["booked"]
    assert len(booked) == 25
    return course


def after_session(tenant: Tenant, clock: FrozenClock, course: dict[str, Any], n: int, baseline: int,
                  now_total: int) -> tuple[Any, int]:
    """Baseline before the course, sessions 1..n delivered, then a PHQ-9 just after session n; fresh clients."""
    patient = course["patient_id"]
    psych = tenant.client("psychiatrist")
    score(psych, patient, course["id"], baseline, (T0 - timedelta(hours=1)).isoformat())
    last = deliver(tenant, course["id"], n)
    clock.advance(as_utc(last.end_at) + timedelta(minutes=30) - clock.now())
    psych = tenant.fresh_client("psychiatrist")
    psych.headers.update(WRITE)
    score(psych, patient, course["id"], now_total, (clock.now() - timedelta(minutes=5)).isoformat())
    return psych, course["id"]


def test_extension_applies_at_session_20_and_books_10_plus_6(tenant: Tenant, clock: FrozenClock) -> None:
    clinic = ready_clinic(tenant)
    course = medicare_course(clinic)
    taper = ok(clinic.tech.get(f"/api/v1/bookings?course_id={course['id']}&status=booked"))
    taper_ids = sorted(b["id"] for b in taper if b["phase_name"] == "taper")
    psych, cid = after_session(tenant, clock, course, 20, baseline=20, now_total=14)  # 30% better

    ev = ok(psych.get(f"/api/v1/courses/{cid}/extension"))
    assert ev["applies"] and ev["reasons"] == [] and ev["at_session"] == 20 and ev["improvement_pct"] == 30.0
    assert ev["replaces"] == ["taper"] and ev["adds"] == ["extension", "extension-taper"]

    dry = ok(psych.post(f"/api/v1/courses/{cid}/extension", json={"reason": "30% PHQ-9 response", "dry_run": True}))
    assert len(dry["plan"]["proposed"]) == 16 and dry["plan"]["booked"] == []
    assert sorted(dry["plan"]["cancelled"]) == taper_ids
    assert [p["name"] for p in ok(psych.get(f"/api/v1/courses/{cid}"))["phases"]] == ["acute", "taper"]

    out = ok(psych.post(f"/api/v1/courses/{cid}/extension", json={
        "reason": "30% PHQ-9 response", "phases": [{"name": "extension", "authorized_sessions": 10}]}))
    booked = out["plan"]["booked"]
    assert [b["sequence"] for b in booked] == list(range(21, 37)) and out["plan"]["unplaced"] == []
    assert [b["phase_name"] for b in booked] == ["extension"] * 10 + ["extension-taper"] * 6
    days = [b["start_at"][:10] for b in booked]
    assert days[0] > clock.now().date().isoformat()  # after session 20's day (the evaluation's)
    assert len(set(days[:10])) == 10  # one daily session each day
    held = ok(psych.get(f"/api/v1/bookings?course_id={cid}&status=cancelled"))
    assert sorted(b["id"] for b in held) == taper_ids
    assert all("replaced by the course extension" in b["status_reason"] for b in held)

    after = ok(psych.get(f"/api/v1/courses/{cid}"))
    assert [p["name"] for p in after["phases"]] == ["acute", "extension", "extension-taper"]
    assert after["planned_sessions"] == 36 and after["phases"][1]["authorized_sessions"] == 10
    [replaced] = after["replaced_phases"]
    assert replaced["name"] == "taper" and "30% PHQ-9 improvement at session 20" in replaced["replaced_reason"]
    # A chair's day counts the course's current phases, not also the one the extension replaced.
    first = booked[0]
    day = ok(tenant.fresh_client("technician").get(
        f"/api/v1/chairs/{first['chair_id']}/schedule?date={first['start_at'][:10]}"))
    assert [e["session"] for e in day["entries"] if e["booking_id"] == first["id"]] == ["21 of 36"]
    assert after["version"] == course["version"] + 2  # activated, then extended
    with session_scope(tenant.app.state.engine) as s:
        row = s.exec(select(AuditEvent).where(AuditEvent.entity == "course", AuditEvent.action == "extend",
                                              AuditEvent.entity_id == str(cid))).one()
        assert row.reason == "30% PHQ-9 response" and row.old_values and row.new_values

    again = psych.post(f"/api/v1/courses/{cid}/extension", json={"reason": "30% PHQ-9 response"})
    assert again.status_code == 409 and "already extended" in again.text


def test_too_little_improvement_is_refused_with_the_threshold(tenant: Tenant, clock: FrozenClock) -> None:
    clinic = ready_clinic(tenant)
    course = medicare_course(clinic)
    psych, cid = after_session(tenant, clock, course, 20, baseline=20, now_total=16)  # 20% better
    ev = ok(psych.get(f"/api/v1/courses/{cid}/extension"))
    assert not ev["applies"] and ev["reasons"] == ["improvement: 20% from baseline is below the rule's 25%"]
    r = psych.post(f"/api/v1/courses/{cid}/extension", json={"reason": "try anyway"})
    assert r.status_code == 409 and error_field(r) == "course_id" and "below the rule's 25%" in r.text
    assert [p["name"] for p in ok(psych.get(f"/api/v1/courses/{cid}"))["phases"]] == ["acute", "taper"]
    assert ok(psych.get(f"/api/v1/bookings?course_id={cid}&status=cancelled")) == []


def test_a_score_far_from_session_20_is_not_the_rule_s_evaluation(tenant: Tenant, clock: FrozenClock) -> None:
    clinic = ready_clinic(tenant)
    course = medicare_course(clinic)
    psych, cid = after_session(tenant, clock, course, 12, baseline=20, now_total=10)
    ev = ok(psych.get(f"/api/v1/courses/{cid}/extension"))
    assert ev["at_session"] == 12 and not ev["applies"]
    assert ev["reasons"] == ["assessment: the latest PHQ-9 was taken after 12 delivered sessions; the rule reads it"
                             " at session 18-22"]


def test_refusals_name_the_field(tenant: Tenant, clock: FrozenClock) -> None:
    clinic = ready_clinic(tenant)
    standard = clinic.course()
    r = clinic.psych.get(f"/api/v1/courses/{standard['id']}/extension")
    assert r.status_code == 409 and error_field(r) == "course_id" and "no extension rule" in r.text
    course = medicare_course(clinic)
    ev = ok(clinic.psych.get(f"/api/v1/courses/{course['id']}/extension"))
    assert ev["reasons"] == ["assessment: no PHQ-9 with a course baseline is recorded for this course"]
    psych, cid = after_session(tenant, clock, course, 20, baseline=20, now_total=14)
    tech = tenant.fresh_client("technician")
    tech.headers.update(WRITE)
    assert tech.post(f"/api/v1/courses/{cid}/extension", json={"reason": "30% PHQ-9 response"}).status_code == 403
    bad = psych.post(f"/api/v1/courses/{cid}/extension", json={
        "reason": "30% PHQ-9 response", "phases": [{"name": "taper", "authorized_sessions": 3}]})
    assert bad.status_code == 422 and error_field(bad) == "phases[0].name"
    short = psych.post(f"/api/v1/courses/{cid}/extension", json={"reason": "ok"})
    assert short.status_code == 422 and error_field(short) == "reason"
    assert [p["name"] for p in ok(psych.get(f"/api/v1/courses/{cid}"))["phases"]] == ["acute", "taper"]
