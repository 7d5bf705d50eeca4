"""Mass assignment: fields a caller may not set are refused by name and never stored.

The candidates are every column of every table (ids, clinic_id, created_at, version, status, signer and
signature fields, role/active, password hashes, delivered counts, audit fields, ...) that an operation's
request body does not declare, read from the SQLModel metadata and the app's OpenAPI schema, so a new
table or endpoint is covered without editing this file.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers every table)
from tests.builders.records import WRITE
from tests.conftest import PASSWORD, Tenant, patient_body
from tests.security.dbstate import changes, snapshot
from tests.security.test_explicit_nulls import concrete, json_operations
from tests.security.world import build

SAMPLES: dict[type, Any] = {int: 1, float: 1.0, bool: True, str: "mass-assigned"}


def protected_columns() -> dict[str, Any]:
    """Every column name of every table, with a value of its type (what a hostile body would send)."""
    columns: dict[str, Any] = {}
    # In any order: sorted_tables would warn of the course <-> protocol_override foreign-key cycle.
    for table in SQLModel.metadata.tables.values():
        for column in table.c:
            try:
                kind = column.type.python_type
            except NotImplementedError:
                kind = str
            columns.setdefault(column.name, SAMPLES.get(kind, "2026-01-01T00:00:00+00:00"))
    return columns


def _refs(spec: dict[str, Any], schema: dict[str, Any], seen: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """Every object schema reachable from ``schema`` (through $ref, properties, items, anyOf)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return found
        seen.add(name)
        target = spec["components"]["schemas"][name]
        if target.get("type") == "object" or "properties" in target:
            found.append((name, target))
        schema = target
    for child in [*schema.get("properties", {}).values(), *schema.get("anyOf", []), *schema.get("oneOf", []),
                  *([schema["items"]] if isinstance(schema.get("items"), dict) else [])]:
        found += _refs(spec, child, seen)
    return found


def test_every_request_body_refuses_unknown_fields(tenant: Tenant) -> None:
    """Statically: every object a JSON body can hold says additionalProperties: false (extra="forbid")."""
    spec = tenant.app.openapi()
    open_shapes, shapes = set(), set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                for name, shape in _refs(spec, media["schema"], set()):
                    shapes.add(name)
                    if shape.get("additionalProperties") is not False and "json" in str(content.keys()):
                        open_shapes.add(f"{name} (in {method.upper()} {path})")
    assert len(shapes) >= 40, sorted(shapes)
    assert not open_shapes, "request shapes that take unknown fields:\n" + "\n".join(sorted(open_shapes))


def test_every_undeclared_column_is_refused_by_name_and_nothing_is_stored(tenant: Tenant) -> None:
    world = build(tenant)
    engine = tenant.app.state.engine
    columns = protected_columns()
    assert {"id", "clinic_id", "created_at", "version", "status", "role", "active", "password_hash", "signer_id",
            "pulses_delivered", "entity_id"} <= set(columns)
    failures: list[str] = []
    operations = json_operations(tenant)
    assert len(operations) >= 30
    for method, path, schema, role in operations:
        extra = {name: value for name, value in columns.items() if name not in schema["properties"]}
        client = tenant.client(role) if role != "anonymous" else tenant.anonymous()
        before = snapshot(engine, tenant.clinic_id)
        response = client.request(method, concrete(world, path), json=extra)
        where = f"{method} {path} as {role}"
        if response.status_code != 422:
            failures.append(f"{where}: {response.status_code} {response.text[:200]}")
            continue
        named = {d["field"] for d in response.json()["error"]["details"] if isinstance(d, dict)}
        if missing := sorted(set(extra) - named):
            failures.append(f"{where}: not refused by name: {missing[:10]}")
        if changed := changes(before, snapshot(engine, tenant.clinic_id)):
            failures.append(f"{where}: changed {changed}")
    assert not failures, "\n".join(failures)


def test_a_valid_body_with_a_smuggled_field_is_refused_whole(tenant: Tenant, other_tenant: Tenant) -> None:
    """The refusal is for the smuggled field alone: the same body without it is taken."""
    world = build(tenant)
    engine = tenant.app.state.engine
    tech, admin = tenant.client("technician"), tenant.client("admin")
    smuggled = {"clinic_id": other_tenant.clinic_id, "id": 424242, "version": 9, "created_at": "2020-01-01T00:00:00Z"}
    body = patient_body()
    before = snapshot(engine, tenant.clinic_id)
    for name, value in smuggled.items():
        refused = tech.post("/api/v1/patients", json=body | {name: value}, headers=WRITE)
        assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == name, refused.text
    assert not changes(before, snapshot(engine, tenant.clinic_id))
    created = tech.post("/api/v1/patients", json=body, headers=WRITE)
    assert created.status_code == 201 and created.json()["clinic_id"] == tenant.clinic_id

    url = f"/api/v1/users/{world.spare_user_id}"
    for name, value in {"clinic_id": other_tenant.clinic_id, "password_hash": "x", "username": "root"}.items():
        refused = admin.patch(url, json={"reason": "rename the spare", "display_name": "Spare", name: value})
        assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == name, refused.text
    assert admin.get(url).json()["clinic_id"] == tenant.clinic_id


def test_sign_in_ignores_fields_it_does_not_take(tenant: Tenant) -> None:
    """The token form reads username and password only: a smuggled role or clinic grants nothing."""
    anon = tenant.anonymous()
    response = anon.post("/api/v1/auth/token", data={
        "username": tenant.usernames["technician"], "password": PASSWORD, "role": "admin", "clinic_id": "1",
        "scope": "admin"})
    assert response.status_code == 200, response.text
    me = anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}).json()
    assert me["role"] == "technician" and me["clinic_id"] == tenant.clinic_id
