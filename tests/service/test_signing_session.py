"""The continuous signing session (21 CFR 11.200(a)): username and password at the first signing after sign-in,
the password alone after that within the same sign-in session; a batch signs each record on its own."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models.audit import AuditEvent
from service.models.signatures import Signature
from tests.builders.records import new_course, new_patient
from tests.conftest import PASSWORD, Tenant


def _reviews(tenant: Tenant, n: int) -> list[int]:
    psych = tenant.client("psychiatrist")
    cid = new_course(tenant, new_patient(tenant))
    out = []
    for week in range(1, n + 1):
        r = psych.post(f"/api/v1/courses/{cid}/reviews", json={"kind": "weekly", "week": week, "note": f"Week {week}."})
        assert r.status_code == 201, r.text
        out.append(int(r.json()["id"]))
    return out


def _sign(client: TestClient, review_id: int, username: str | None = None, password: str = PASSWORD) -> Any:
    body: dict[str, Any] = {"subject": "course_review", "subject_id": review_id, "meaning": "reviewed",
                            "password": password}
    if username is not None:
        body["username"] = username
    return client.post("/api/v1/signatures", json=body)


def _signed(tenant: Tenant, ids: list[int]) -> list[Signature]:
    with Session(tenant.app.state.engine) as s:
        return list(s.exec(select(Signature).where(Signature.subject == "course_review")
                           .where(Signature.subject_id.in_(ids))).all())  # type: ignore[attr-defined]


def _session_rows(tenant: Tenant) -> list[tuple[str, str | None]]:
    with Session(tenant.app.state.engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.entity == "signing_session",
                                               AuditEvent.user_id == tenant.users["psychiatrist"])
                      .order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    return [(r.action, r.entity_id) for r in rows]


def test_first_signing_needs_the_username_and_later_ones_only_the_password(tenant: Tenant) -> None:
    a, b, c = _reviews(tenant, 3)
    psych = tenant.fresh_client("psychiatrist")
    first = _sign(psych, a)
    assert first.status_code == 422
    assert first.json()["error"]["details"][0]["field"] == "username"
    assert "first signing" in first.json()["error"]["details"][0]["message"]
    assert _signed(tenant, [a]) == []
    assert _sign(psych, a, username=tenant.usernames["psychiatrist"]).status_code == 201
    later = _sign(psych, b)
    assert later.status_code == 201, later.text
    assert _sign(psych, c, username=tenant.usernames["psychiatrist"]).status_code == 201  # both still accepted
    by_id = {s.subject_id: s for s in _signed(tenant, [a, b, c])}
    assert sorted(by_id) == [a, b, c]
    with Session(tenant.app.state.engine) as s:
        signs = s.exec(select(AuditEvent).where(AuditEvent.entity == "e_signature", AuditEvent.action == "sign",
                                                AuditEvent.user_id == tenant.users["psychiatrist"])
                       .order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    assert [e.new_values["components"] for e in signs] == ["username+password", "password", "username+password"]
    assert len({e.new_values["signing_session"] for e in signs}) == 1
    assert [action for action, _ in _session_rows(tenant)] == ["open"]


def test_a_new_sign_in_session_needs_the_username_again(tenant: Tenant) -> None:
    a, b = _reviews(tenant, 2)
    first = tenant.fresh_client("psychiatrist")
    assert _sign(first, a, username=tenant.usernames["psychiatrist"]).status_code == 201
    second = tenant.fresh_client("psychiatrist")  # a new sign-in: a new continuous session
    refused = _sign(second, b)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "username_required"
    assert _signed(tenant, [b]) == []
    assert first.post("/api/v1/auth/logout").status_code in (200, 204)
    assert _sign(first, b).status_code == 401  # a logged-out session signs nothing
    assert _sign(second, b, username=tenant.usernames["psychiatrist"]).status_code == 201


def test_wrong_password_signs_nothing_and_ends_the_signing_session(tenant: Tenant) -> None:
    a, b = _reviews(tenant, 2)
    psych = tenant.fresh_client("psychiatrist")
    assert _sign(psych, a, username=tenant.usernames["psychiatrist"]).status_code == 201
    wrong = _sign(psych, b, password="not my password")
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "password"
    assert _signed(tenant, [b]) == []
    # After a refusal the next signing starts a new signing session: the username is needed again.
    assert _sign(psych, b).json()["error"]["code"] == "username_required"
    assert [a for a, _ in _session_rows(tenant)] == ["open", "close"]
    wrong_name = _sign(psych, b, username=tenant.usernames["technician"])
    assert wrong_name.status_code == 422 and wrong_name.json()["error"]["details"][0]["field"] == "username"
    assert _signed(tenant, [b]) == []


def test_a_batch_signs_each_record_on_its_own_with_one_password_entry(tenant: Tenant) -> None:
    ids = _reviews(tenant, 3)
    psych = tenant.fresh_client("psychiatrist")
    items = [{"subject": "course_review", "subject_id": i, "meaning": m}
             for i, m in zip(ids, ["reviewed", "approved", "reviewed"], strict=True)]
    no_name = psych.post("/api/v1/signatures/batch", json={"password": PASSWORD, "items": items})
    assert no_name.status_code == 422 and no_name.json()["error"]["code"] == "username_required"
    wrong = psych.post("/api/v1/signatures/batch", json={"username": tenant.usernames["psychiatrist"],
                                                         "password": "nope", "items": items})
    assert wrong.status_code == 422 and _signed(tenant, ids) == []
    ok = psych.post("/api/v1/signatures/batch", json={"username": tenant.usernames["psychiatrist"],
                                                      "password": PASSWORD, "items": items})
    assert ok.status_code == 201, ok.text
    sigs = ok.json()
    assert [(s["subject_id"], s["meaning"]) for s in sigs] == [(i["subject_id"], i["meaning"]) for i in items]
    rows = {s.subject_id: s for s in _signed(tenant, ids)}
    assert len({r.record_sha256 for r in rows.values()}) == 3  # each bound to its own record
    for r in rows.values():
        assert hashlib.sha256(r.record_json.encode()).hexdigest() == r.record_sha256
        assert f'"id":{r.subject_id}' in r.record_json


def test_a_batch_with_one_bad_item_signs_none(tenant: Tenant) -> None:
    ids = _reviews(tenant, 2)
    psych = tenant.fresh_client("psychiatrist")
    items = [{"subject": "course_review", "subject_id": ids[0], "meaning": "reviewed"},
             {"subject": "course_review", "subject_id": ids[1], "meaning": "cleared"}]
    r = psych.post("/api/v1/signatures/batch", json={"username": tenant.usernames["psychiatrist"],
                                                     "password": PASSWORD, "items": items})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "meaning"
    assert _signed(tenant, ids) == []


def test_the_idle_timeout_ends_the_signing_session_with_the_sign_in(tenant: Tenant) -> None:
    from datetime import timedelta

    a, b = _reviews(tenant, 2)
    psych = tenant.fresh_client("psychiatrist")
    assert _sign(psych, a, username=tenant.usernames["psychiatrist"]).status_code == 201
    idle = tenant.app.state.settings.session_idle_minutes
    tenant.app.state.clock.advance(timedelta(minutes=idle + 1))
    assert _sign(psych, b).status_code == 401
    again = tenant.fresh_client("psychiatrist")
    assert _sign(again, b).json()["error"]["code"] == "username_required"
    assert _signed(tenant, [b]) == []
