"""Technician days off: the planner and single bookings skip them; their bookings that day go to a colleague
on shift, or stay and are flagged; a day off is withdrawn, never deleted. Both databases."""

from __future__ import annotations

from sqlmodel import select

from service.core.db import session_scope
from service.models.audit import AuditEvent
from tests.builders.clinic import add_technician, book, error_field, ok, ready_clinic
from tests.conftest import Tenant

MON_10 = "2026-11-23T15:00:00Z"  # Monday 10:00 in Boston (T0 is 09:00)
TUE_10 = "2026-11-24T15:00:00Z"


def test_a_day_off_refuses_single_bookings_naming_the_rule(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    out = ok(clinic.admin.post("/api/v1/calendar/days-off", json={
        "user_id": clinic.technician_id, "day": "2026-11-24", "reason": "annual leave"}), 201)
    assert out["day_off"]["day"] == "2026-11-24" and out["reassigned"] == [] and out["unresolved"] == []
    r = book(clinic, course["id"], TUE_10)
    assert r.status_code == 409 and error_field(r) == "technician_id" and "off on 2026-11-24" in r.text
    assert ok(book(clinic, course["id"], MON_10), 201)["technician_id"] == clinic.technician_id


def test_refusals_name_the_field_and_change_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    body = {"user_id": clinic.technician_id, "day": "2026-11-24", "reason": "annual leave"}
    ok(clinic.admin.post("/api/v1/calendar/days-off", json=body), 201)
    again = clinic.admin.post("/api/v1/calendar/days-off", json=body)
    assert again.status_code == 409 and error_field(again) == "day"
    not_tech = clinic.admin.post("/api/v1/calendar/days-off", json=body | {"user_id": tenant.users["psychiatrist"]})
    assert not_tech.status_code == 404
    foreign = clinic.admin.post("/api/v1/calendar/days-off",
                                json=body | {"user_id": other_tenant.users["technician"]})
    assert foreign.status_code == 404
    short = clinic.admin.post("/api/v1/calendar/days-off", json=body | {"reason": ""})
    assert short.status_code == 422 and error_field(short) == "reason"
    by_tech = clinic.tech.post("/api/v1/calendar/days-off", json=body | {"day": "2026-11-25"})
    assert by_tech.status_code == 403
    listed = ok(clinic.tech.get("/api/v1/calendar/days-off"))
    assert [d["day"] for d in listed] == ["2026-11-24"]


def test_bookings_move_to_a_free_colleague_on_shift(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    colleague = add_technician(clinic)
    course = clinic.course()
    booking = ok(book(clinic, course["id"], TUE_10), 201)
    out = ok(clinic.admin.post("/api/v1/calendar/days-off", json={
        "user_id": clinic.technician_id, "day": "2026-11-24", "reason": "sick"}), 201)
    assert out["reassigned"] == [{"booking_id": booking["id"], "start_at": "2026-11-24T15:00:00Z",
                                  "technician_id": colleague}]
    assert out["unresolved"] == []
    after = ok(clinic.tech.get(f"/api/v1/bookings/{booking['id']}"))
    assert after["technician_id"] == colleague and after["version"] == booking["version"] + 1
    with session_scope(tenant.app.state.engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.entity == "booking", AuditEvent.action == "reassign",
                                                AuditEvent.entity_id == str(booking["id"]))).one()
        assert audit.old_values == {"technician_id": clinic.technician_id} and "sick" in (audit.reason or "")


def test_a_booking_nobody_can_take_stays_and_is_flagged(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    afternoon = add_technician(clinic, start="13:00", end="18:00")  # not on shift at 10:00
    chair_b, _ = clinic.add_chair("Chair B")
    course = clinic.course()
    booking = ok(book(clinic, course["id"], TUE_10), 201)
    other = clinic.course()
    ok(book(clinic, other["id"], "2026-11-24T19:00:00Z", chair_id=chair_b, technician_id=afternoon), 201)
    out = ok(clinic.admin.post("/api/v1/calendar/days-off", json={
        "user_id": clinic.technician_id, "day": "2026-11-24", "reason": "sick"}), 201)
    assert out["reassigned"] == []
    assert [u["booking_id"] for u in out["unresolved"]] == [booking["id"]]
    assert "no other technician on shift is free 10:00-10:48" in out["unresolved"][0]["reason"]
    assert ok(clinic.tech.get(f"/api/v1/bookings/{booking['id']}"))["technician_id"] == clinic.technician_id
    flags = ok(clinic.tech.get(f"/api/v1/review-flags?course_id={course['id']}"))
    assert [f["kind"] for f in flags] == ["technician_off"] and str(booking["id"]) in flags[0]["message"]


def test_a_busy_colleague_is_passed_over(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    busy = add_technician(clinic)
    free = add_technician(clinic)
    chair_b, _ = clinic.add_chair("Chair B")
    course = clinic.course()
    booking = ok(book(clinic, course["id"], TUE_10), 201)
    ok(book(clinic, clinic.course()["id"], TUE_10, chair_id=chair_b, technician_id=busy), 201)
    out = ok(clinic.admin.post("/api/v1/calendar/days-off", json={
        "user_id": clinic.technician_id, "day": "2026-11-24", "reason": "training"}), 201)
    assert [(m["booking_id"], m["technician_id"]) for m in out["reassigned"]] == [(booking["id"], free)]


def test_the_planner_does_not_staff_a_session_with_a_technician_off(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    ok(clinic.admin.post("/api/v1/calendar/days-off", json={
        "user_id": clinic.technician_id, "day": "2026-11-25", "reason": "annual leave"}), 201)
    course = clinic.course()
    clinic.authorization(course["id"], sessions=36)
    out = ok(clinic.tech.post(f"/api/v1/courses/{course['id']}/plan", json={"dry_run": True}))
    days = {b["start_at"][:10] for b in out["proposed"]}
    assert "2026-11-25" not in days and "2026-11-24" in days and len(out["proposed"]) == 35
    # the planner never drops a session silently: the one it could not staff comes back with the reason
    [unplaced] = out["unplaced"]
    assert unplaced["wanted_date"] == "2026-11-25" and unplaced["reasons"][0].startswith("technician_shift")


def test_withdrawn_day_off_is_kept_and_the_day_is_bookable_again(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course()
    off = ok(clinic.admin.post("/api/v1/calendar/days-off", json={
        "user_id": clinic.technician_id, "day": "2026-11-24", "reason": "annual leave"}), 201)["day_off"]
    short = clinic.admin.post(f"/api/v1/calendar/days-off/{off['id']}/withdraw", json={"reason": "x"})
    assert short.status_code == 422 and error_field(short) == "reason"
    done = ok(clinic.admin.post(f"/api/v1/calendar/days-off/{off['id']}/withdraw",
                                json={"reason": "leave cancelled"}))
    assert done["withdrawn_at"] is not None
    again = clinic.admin.post(f"/api/v1/calendar/days-off/{off['id']}/withdraw", json={"reason": "leave cancelled"})
    assert again.status_code == 409
    assert ok(clinic.tech.get("/api/v1/calendar/days-off")) == []
    kept = ok(clinic.tech.get("/api/v1/calendar/days-off?include_withdrawn=true"))
    assert [d["id"] for d in kept] == [off["id"]]
    ok(book(clinic, course["id"], TUE_10), 201)
