"""Payer authorizations: units per CPT code, usage from delivered and booked sessions, amendments with a
reason, refusals naming the field, cross-clinic 404, audit rows."""

from __future__ import annotations

from sqlmodel import col, select

from service.audit.service import SYSTEM
from service.bookings import service as bookings
from service.core.clock import as_utc
from service.core.db import session_scope
from service.models.audit import AuditEvent
from service.models.bookings import Booking, BookingStatus
from tests.builders.clinic import book, error_field, ok, ready_clinic
from tests.conftest import Tenant

MON_10 = "2026-11-23T15:00:00Z"


def test_record_and_read_with_usage(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    auth = clinic.authorization(cid, sessions=36, units=[{"cpt": "90867", "units": 1}, {"cpt": "90868", "units": 35},
                                                         {"cpt": "90869", "units": 6}])
    assert [(u["cpt"], u["units"], u["used"]) for u in auth["units"]] == [("90867", 1, 0), ("90868", 35, 0),
                                                                          ("90869", 6, 0)]
    assert auth["sessions"] == {"authorized": 36, "delivered": 0, "booked": 0, "remaining": 36, "unbooked": 36}
    with session_scope(tenant.app.state.engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.entity == "authorization",
                                               AuditEvent.entity_id == str(auth["id"]))).all()
        assert [r.action for r in rows] == ["create"]


def test_delivered_sessions_use_90867_first_then_90868(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    auth = clinic.authorization(cid, sessions=3)
    first = ok(book(clinic, cid, MON_10), 201)
    ok(book(clinic, cid, "2026-11-24T15:00:00Z"), 201)
    with session_scope(tenant.app.state.engine) as s:
        row = s.get(Booking, first["id"])
        assert row is not None
        bookings.transition(s, SYSTEM, row, BookingStatus.in_progress, None, as_utc(row.start_at))
        bookings.transition(s, SYSTEM, row, BookingStatus.completed, None, as_utc(row.end_at))
    got = ok(clinic.tech.get(f"/api/v1/authorizations/{auth['id']}"))
    assert got["sessions"] == {"authorized": 3, "delivered": 1, "booked": 1, "remaining": 2, "unbooked": 1}
    assert [(u["cpt"], u["used"], u["booked"], u["remaining"]) for u in got["units"]] == [
        ("90867", 1, 0, 0), ("90868", 0, 1, 2)]


def test_refusals_name_the_field(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    base = {"course_id": cid, "payer": "Aetna", "number": "X-1", "start_date": "2026-11-23",
            "end_date": "2027-01-31", "units": [{"cpt": "90868", "units": 30}]}
    cases = [
        (base | {"end_date": "2026-11-01"}, 422, "body"),
        (base | {"units": [{"cpt": "90867", "units": 2}]}, 422, "body"),
        (base | {"units": [{"cpt": "90868", "units": 1}, {"cpt": "90868", "units": 2}]}, 422, "body"),
        (base | {"units": [{"cpt": "99999", "units": 1}]}, 422, "units[0].cpt"),
        (base | {"units": [{"cpt": "90869", "units": 4}]}, 422, "units"),
        (base | {"course_id": 2147483647}, 404, "course 2147483647 not found"),
    ]
    for body, status, field in cases:
        r = clinic.admin.post("/api/v1/authorizations", json=body)
        assert r.status_code == status, (body, r.text)
        assert error_field(r) == field, (body, r.text)
    ok(clinic.admin.post("/api/v1/authorizations", json=base), 201)
    r = clinic.admin.post("/api/v1/authorizations", json=base)
    assert r.status_code == 409 and error_field(r) == "number"
    assert clinic.tech.post("/api/v1/authorizations", json=base | {"number": "X-2"}).status_code == 403


def test_amend_with_reason_never_below_usage(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = clinic.course()["id"]
    auth = clinic.authorization(cid, sessions=3, end="2026-11-30")
    ok(book(clinic, cid, MON_10), 201)
    ok(book(clinic, cid, "2026-11-24T15:00:00Z"), 201)
    url = f"/api/v1/authorizations/{auth['id']}"
    r = clinic.admin.patch(url, json={"reason": "payer cut it", "units": [{"cpt": "90868", "units": 1}]})
    assert r.status_code == 409 and error_field(r) == "units"
    amended = ok(clinic.psych.patch(url, json={"reason": "payer extended", "end_date": "2027-02-28"}))
    assert amended["end_date"] == "2027-02-28" and amended["version"] == 2
    assert clinic.admin.patch(url, json={"reason": "no change at all"}).status_code == 422
    withdrawn = ok(clinic.admin.patch(url, json={"reason": "entered in error", "status": "withdrawn"}))
    assert withdrawn["status"] == "withdrawn"
    r = book(clinic, cid, "2026-11-25T15:00:00Z")
    assert r.status_code == 409 and error_field(r) == "authorization" and "withdrawn" in r.text
    with session_scope(tenant.app.state.engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.entity == "authorization",
                                               AuditEvent.entity_id == str(auth["id"]),
                                               AuditEvent.action == "amend").order_by(col(AuditEvent.id))).all()
        assert [r.reason for r in rows] == ["payer extended", "entered in error"]


def test_other_clinics_see_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    auth = clinic.authorization(clinic.course()["id"])
    other = other_tenant.client("admin")
    assert other.get(f"/api/v1/authorizations/{auth['id']}").status_code == 404
    r = other.patch(f"/api/v1/authorizations/{auth['id']}", json={"reason": "take it over", "number": "Z"},
                    headers={"X-Requested-With": "t"})
    assert r.status_code == 404
    assert other.get("/api/v1/authorizations").json() == []
    assert other.get(f"/api/v1/authorizations?course_id={auth['course_id']}").status_code == 404
