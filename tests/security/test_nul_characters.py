"""A NUL character in any text is refused with a 422 naming the field, on both databases, and stores nothing.

Found by schemathesis on PostgreSQL: a course review note holding "\\u0000" reached the database,
which refuses NUL in text (a 500), while SQLite stored it. Query strings and sign-in forms carry text too.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders.records import WRITE
from tests.conftest import Tenant
from tests.security.dbstate import changes, snapshot
from tests.security.world import build


def _field(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["error"]["details"][0]["field"])


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "weekly", "week": 2, "note": "fine\u0000"}, "note"),
    ({"kind": "weekly", "week": 2, "note": "fine", "plan": "a\u0000b"}, "plan"),
    ({"kind": "weekly", "week": 2, "note": "fine", "extra": {"deep": ["x", "\u0000"]}}, "extra.deep[1]"),
])
def test_json_bodies_with_a_nul_are_refused_by_field(tenant: Tenant, body: dict[str, Any], field: str) -> None:
    world = build(tenant)
    before = snapshot(tenant.app.state.engine, tenant.clinic_id)
    response = tenant.client("psychiatrist").post(f"/api/v1/courses/{world.ids['course_id']}/reviews", json=body)
    assert _field(response) == field
    assert not changes(before, snapshot(tenant.app.state.engine, tenant.clinic_id))


def test_a_literal_backslash_u0000_is_text_not_a_nul(tenant: Tenant) -> None:
    world = build(tenant)
    note = "path C:\\u0000 is fine"  # an escaped backslash, then the letters u0000
    response = tenant.client("psychiatrist").post(f"/api/v1/courses/{world.ids['course_id']}/reviews",
                                                  json={"kind": "weekly", "week": 2, "note": note})
    assert response.status_code == 201 and response.json()["note"] == note


def test_query_strings_and_sign_in_forms_with_a_nul_are_refused(tenant: Tenant) -> None:
    client = tenant.client("technician")
    assert _field(client.get("/api/v1/patients", params={"q": "Doe\u0000"})) == "q"
    before = snapshot(tenant.app.state.engine, tenant.clinic_id)
    anon = tenant.anonymous()
    assert _field(anon.post("/api/v1/auth/token", data={"username": "x\u0000", "password": "y" * 12})) == "username"
    assert _field(anon.post("/api/v1/auth/logout", headers=WRITE | {"Authorization": "Bearer t"},
                            params={"next": "\u0000"})) == "next"
    assert not changes(before, snapshot(tenant.app.state.engine, tenant.clinic_id))
