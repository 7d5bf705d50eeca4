"""Bookings: single bookings with every refusal naming its field, no double booking (also under 20
concurrent requests, on both databases), plan and book a course, no-shows, re-planning, the chair's day."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from service.app import create_app
from service.core.clock import FrozenClock
from service.core.db import session_scope
from service.models.audit import AuditEvent
from service.models.bookings import Booking
from tests.builders.clinic import add_technician, book, error_field, ok, ready_clinic
from tests.conftest import T0, Tenant, fresh_database, make_tenant, settings_for

MON_10 = "2026-11-23T15:00:00Z"  # Monday 10:00 in Boston (T0 is 09:00)


def test_book_one_session(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    booking = ok(book(clinic, course["id"], MON_10), 201)
    assert booking["sequence"] == 1 and booking["phase_name"] == "acute" and booking["status"] == "booked"
    assert booking["end_at"].startswith("2026-11-23T15:48")  # 2224 s -> 38 min + 10 min set-up
    assert booking["device_id"] == clinic.device_id and booking["authorization"] is None
    with session_scope(tenant.app.state.engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.entity == "booking",
                                               AuditEvent.entity_id == str(booking["id"]))).all()
        assert [r.action for r in rows] == ["create"]


def test_overlaps_are_refused_naming_the_resource(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    first = clinic.course()
    ok(book(clinic, first["id"], MON_10), 201)
    second = clinic.course()
    r = book(clinic, second["id"], "2026-11-23T15:30:00Z")
    assert r.status_code == 409 and error_field(r) == "chair_id"
    assert r.json()["error"]["details"]["resource"] == "chair"
    other_chair, _ = clinic.add_chair("Chair B")
    r = book(clinic, second["id"], "2026-11-23T15:30:00Z", chair_id=other_chair)
    assert r.status_code == 409 and error_field(r) == "technician_id"
    tech2 = add_technician(clinic)
    r = book(clinic, first["id"], "2026-11-23T15:30:00Z", chair_id=other_chair, technician_id=tech2, sequence=2)
    # the patient's own course refuses a second session that day before the overlap check is reached
    assert r.status_code == 409 and error_field(r) == "start_at" and r.json()["error"]["code"] == "daily_limit"
    assert ok(book(clinic, second["id"], "2026-11-23T15:48:00Z"), 201)["start_at"].startswith("2026-11-23T15:48")


def test_refusals_name_the_field(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    cases = [
        ("2026-11-26T15:00:00Z", {}, 409, "start_at", "Thanksgiving"),  # public holiday
        ("2026-11-28T15:00:00Z", {}, 409, "start_at", "Saturday"),
        ("2026-11-23T22:30:00Z", {}, 409, "start_at", "opening hours"),  # 17:30 + 48 min > 18:00
        ("2026-11-20T15:00:00Z", {}, 422, "start_at", "past"),
        ("2026-11-23T15:00:00", {}, 422, "start_at", "timezone"),
        (MON_10, {"sequence": 37}, 422, "sequence", "36"),
        (MON_10, {"chair_id": 2147483647}, 404, "chair 2147483647 not found", ""),
        (MON_10, {"technician_id": tenant.users["admin"]}, 404, f"technician {tenant.users['admin']} not found", ""),
    ]
    for start, extra, status, field, words in cases:
        r = book(clinic, cid, start, **extra)
        assert r.status_code == status, (start, extra, r.text)
        assert error_field(r) == field, (start, extra, r.text)
        assert words.lower() in r.text.lower(), r.text


def test_technician_shift_and_device_capability(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    late = add_technician(clinic, "13:00", "18:00")
    cid = clinic.course()["id"]
    r = book(clinic, cid, MON_10, technician_id=late)
    assert r.status_code == 409 and error_field(r) == "technician_id" and "shift" in r.text
    r30, _ = clinic.add_chair("Chair R30", model="magventure-r30")
    itbs = clinic.course(protocol_id="itbs_600")
    r = book(clinic, itbs["id"], MON_10, chair_id=r30)
    assert r.status_code == 409 and error_field(r) == "chair_id" and "theta-burst" in r.text


def test_authorization_dates_and_units(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    auth = clinic.authorization(cid, sessions=2, start="2026-11-23", end="2026-11-25")
    r = book(clinic, cid, "2026-11-27T15:00:00Z")
    assert r.status_code == 409 and error_field(r) == "authorization" and "outside" in r.text
    first = ok(book(clinic, cid, MON_10), 201)
    assert first["authorization"]["id"] == auth["id"]
    assert first["authorization"]["sessions"] == {"authorized": 2, "delivered": 0, "booked": 1, "remaining": 2,
                                                  "unbooked": 1}
    ok(book(clinic, cid, "2026-11-24T15:00:00Z"), 201)
    r = book(clinic, cid, "2026-11-25T15:00:00Z")
    assert r.status_code == 409 and error_field(r) == "authorization" and "units" in r.text


def test_plan_and_book_a_whole_course(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course(window_start="09:00", window_end="12:00")
    clinic.authorization(course["id"], sessions=36)
    dry = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={"dry_run": True}))
    assert len(dry["proposed"]) == 36 and dry["booked"] == []
    out = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={}))
    assert len(out["booked"]) == 36 and out["unplaced"] == []
    days = [b["start_at"][:10] for b in out["booked"]]
    assert "2026-11-26" not in days and days[0] == "2026-11-23"
    assert [b["sequence"] for b in out["booked"]] == list(range(1, 37))
    assert out["authorization"]["sessions"]["booked"] == 36
    with session_scope(tenant.app.state.engine) as s:  # each answer is its stored row, audited under its own id
        stored = {b.id: b for b in s.exec(select(Booking).where(Booking.course_id == course["id"])).all()}
        audited = {int(e.entity_id or 0): e.new_values for e in s.exec(select(AuditEvent).where(
            AuditEvent.entity == "booking", AuditEvent.action == "create",
            col(AuditEvent.entity_id).in_([str(i) for i in stored]))).all()}
    assert sorted(stored) == sorted(b["id"] for b in out["booked"]) == sorted(audited)
    for b in out["booked"]:
        row = stored[b["id"]]
        assert (row.sequence, row.start_at.isoformat()) == (b["sequence"], b["start_at"].replace("Z", "+00:00"))
        assert audited[b["id"]] is not None and audited[b["id"]]["id"] == b["id"]
        assert audited[b["id"]]["sequence"] == b["sequence"]
    again = clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={})
    assert again.status_code == 409 and error_field(again) == "course_id"


def test_plan_reports_every_unplaced_session_with_its_reason(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    clinic.authorization(course["id"], sessions=10)
    out = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={}))
    assert len(out["booked"]) == 10 and len(out["unplaced"]) == 26
    assert all(any(r.startswith("authorization_units") for r in u["reasons"]) for u in out["unplaced"])
    assert any("beyond the authorized units" in w for w in out["warnings"])
    itbs = clinic.course(protocol_id="dtms_h1_18hz_1980")
    none = ok(clinic.tech.post(f"/api/v1/courses/{itbs['id']}/plan", json={}))
    assert none["booked"] == [] and all(u["reasons"][0].startswith("capability") for u in none["unplaced"])


def test_no_show_flags_and_replan(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    clinic.authorization(course["id"], sessions=36, end="2027-06-30")
    planned = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={}))["booked"]
    first = planned[0]
    r = clinic.tech.post(f"/api/v1/bookings/{first['id']}/status", json={"status": "no_show"})
    assert r.status_code == 422 and error_field(r) == "reason"
    res = ok(clinic.tech.post(f"/api/v1/bookings/{first['id']}/status",
                              json={"status": "no_show", "reason": "did not come"}))
    assert res["booking"]["status"] == "no_show" and any("re-plan" in f for f in res["flags"])
    dry = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/replan", json={"dry_run": True}))
    assert dry["cancelled"] and dry["proposed"]
    out = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/replan", json={}))
    seqs = sorted(b["sequence"] for b in out["booked"])
    assert 1 in seqs and out["unplaced"] == []
    held = ok(clinic.tech.get(f"/api/v1/bookings?course_id={course['id']}&status=booked"))
    assert sorted(b["sequence"] for b in held) == list(range(1, 37))
    flags = ok(clinic.tech.get(f"/api/v1/review-flags?course_id={course['id']}"))
    assert [f["kind"] for f in flags] == ["missed_session"]
    r = clinic.tech.post(f"/api/v1/courses/{course['id']}/replan", json={})
    assert r.status_code == 409 and error_field(r) == "course_id"


def test_chair_schedule(tenant: Tenant, other_tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    clinic.authorization(course["id"], sessions=36)
    ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={}))
    day = ok(clinic.tech.get(f"/api/v1/chairs/{clinic.chair_id}/schedule?date=2026-11-24"))
    assert day["chair_name"] == "Chair A" and len(day["entries"]) == 1
    entry = day["entries"][0]
    assert entry["patient_name"] == "Jane Doe" and entry["session"] == "2 of 36"
    assert entry["authorization"]["sessions"]["remaining"] == 36
    r = other_tenant.client("technician").get(f"/api/v1/chairs/{clinic.chair_id}/schedule?date=2026-11-24")
    assert r.status_code == 404
    r = clinic.tech.get(f"/api/v1/chairs/{clinic.chair_id}/schedule?date=24-11-2026")
    assert r.status_code == 422 and error_field(r) == "date"


def test_discontinuing_a_course_cancels_its_future_bookings(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={}))
    ok(clinic.psych.post(f"/api/v1/courses/{course['id']}/status",
                         json={"status": "discontinued", "reason": "patient moved away"}))
    rows = ok(clinic.tech.get(f"/api/v1/bookings?course_id={course['id']}"))
    assert {b["status"] for b in rows} == {"cancelled"}


def test_twenty_concurrent_requests_for_one_slot(db_kind: str, tmp_path: Path) -> None:
    """20 threads, real commits, one chair slot: exactly one booking; 19 × 409 naming the chair or its device."""
    url, engine = fresh_database(db_kind, tmp_path)
    app = create_app(settings_for(url), engine=engine, clock=FrozenClock(T0))
    clinic = ready_clinic(make_tenant(app))
    requests = []
    for _ in range(20):
        course = clinic.course()
        requests.append({"course_id": course["id"], "chair_id": clinic.chair_id,
                         "technician_id": add_technician(clinic), "start_at": MON_10})
    token = clinic.tech.headers["Authorization"]
    barrier = threading.Barrier(20)
    results: list[tuple[int, dict[str, object]]] = []

    def attempt(body: dict[str, object]) -> None:
        with TestClient(app, raise_server_exceptions=False) as client:
            barrier.wait()
            r = client.post("/api/v1/bookings", json=body, headers={"Authorization": token})
            results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=attempt, args=(body,)) for body in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in results) == [201] + [409] * 19
    for code, body in results:
        if code == 409:
            error = body["error"]
            assert error["code"] == "double_booking"  # type: ignore[index]
            assert error["details"]["resource"] in ("chair", "device"), error  # type: ignore[index]
    with session_scope(engine) as s:
        assert len(s.exec(select(Booking).where(Booking.chair_id == clinic.chair_id)).all()) == 1
    engine.dispose()


def test_database_refuses_an_overlap_the_service_did_not_check(database: object, tenant: Tenant) -> None:
    """The backstop: an insert that skips the service's check still cannot double-book."""
    clinic = ready_clinic(tenant)
    first = ok(book(clinic, clinic.course()["id"], MON_10), 201)
    second = clinic.course()
    with pytest.raises(IntegrityError, match="ex_booking_(chair|device|technician)"), \
            session_scope(tenant.app.state.engine) as s:
        row = s.get(Booking, first["id"])
        assert row is not None
        clone = Booking(**row.model_dump(exclude={"id"}) | {"course_id": second["id"],
                                                             "patient_id": second["patient_id"]})
        s.add(clone)
        s.flush()
