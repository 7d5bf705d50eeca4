"""An explicit ``null`` for each body field of every JSON operation, read from the app's OpenAPI schema.

Where the schema says a field cannot be null, the answer is a 422 naming that field and nothing is
stored; where it can, the request may succeed. Never a 5xx. (Amendments once took ``null`` for fields
whose column cannot be empty and answered 500: see service/core/amend.py.)
"""

from __future__ import annotations

from typing import Any

from service.api.deps import route_roles
from service.app import api_routes
from tests.conftest import Tenant
from tests.security.dbstate import changes, snapshot
from tests.security.world import SecurityWorld, build

REASON = "hostile-input probe"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _nullable(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(spec, schema)
    if schema.get("type") == "null" or "null" in (schema.get("type") or []):
        return True
    return any(_nullable(spec, s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def json_operations(tenant: Tenant) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, body schema, an admitted role) for every operation that takes a JSON object body."""
    spec = tenant.app.openapi()
    roles = {(m, r.path): route_roles(r.dependant) or frozenset() for r in api_routes(tenant.app) for m in r.methods}
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = _resolve(spec, content["application/json"]["schema"])
            admitted = sorted(roles[(method.upper(), path)] - {"*"}) or ["anonymous"]
            if schema.get("properties"):
                found.append((method.upper(), path, schema, admitted[0]))
    return found


def concrete(world: SecurityWorld, path: str) -> str:
    for name, value in world.path_ids(path).items():
        path = path.replace("{" + name + "}", str(value))
    return path


def test_an_explicit_null_is_refused_by_name_or_accepted_never_a_server_error(tenant: Tenant) -> None:
    world = build(tenant)
    spec = tenant.app.openapi()
    engine = tenant.app.state.engine
    failures: list[str] = []
    operations = json_operations(tenant)
    assert len(operations) >= 30
    for method, path, schema, role in operations:
        client = tenant.client(role) if role != "anonymous" else tenant.anonymous()
        url = concrete(world, path)
        for name, field_schema in schema["properties"].items():
            body: dict[str, Any] = {"reason": REASON} if "reason" in schema["properties"] else {}
            body[name] = None
            nullable = _nullable(spec, field_schema)
            before = None if nullable else snapshot(engine, tenant.clinic_id)
            response = client.request(method, url, json=body)
            where = f"{method} {path} {name}=null as {role}: {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"{where} {response.text[:200]}")
            elif before is not None:
                named = [d.get("field") for d in (response.json()["error"].get("details") or [])
                         if isinstance(d, dict)] if response.status_code == 422 else []
                if name not in named:
                    failures.append(f"{where} (a non-null field: expected a 422 naming it) {response.text[:200]}")
                if changed := changes(before, snapshot(engine, tenant.clinic_id)):
                    failures.append(f"{where} changed {changed}")
    assert not failures, "\n".join(failures)
