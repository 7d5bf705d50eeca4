"""Deny by default: every route names its roles, and each role is let in or kept out as declared.

The matrix is generated from the app's route table, so a new route is covered (or fails) automatically.
"""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from service.api.deps import Staff, read_only, route_roles
from service.app import ROUTERS, api_routes, assert_every_route_has_a_rule
from service.models.users import Role
from tests.conftest import Tenant

ROLES = [r.value for r in Role]


def _routes(app: FastAPI) -> list[tuple[str, str, frozenset[str]]]:
    out = []
    for route in api_routes(app):
        rule = route_roles(route.dependant)
        assert rule is not None, f"{route.path} has no role rule"
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, route.path, rule))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_declares_its_roles(app: FastAPI) -> None:
    routes = _routes(app)
    assert len(routes) >= 15
    for method, path, rule in routes:
        assert rule, f"{method} {path} names no role"
        assert rule <= {*ROLES, "*"}, f"{method} {path} names an unknown role: {rule}"


def test_no_two_routers_answer_the_same_request() -> None:
    """Routers are matched in the order they are included (the chair agents' first, for speed): that order may
    change which route answers only if two routers have a route for the same method and path."""
    routes = [(i, r) for i, router in enumerate(ROUTERS) for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 100
    shared = [
        f"{sorted(a.methods & b.methods)} {a.path} and {b.path}"
        for i, a in routes for j, b in routes
        if i < j and _answer_alike(a, b)
    ]
    assert shared == []


def _answer_alike(a: APIRoute, b: APIRoute) -> bool:
    """Some request would match both: a method in common, and a path of one that the other's pattern matches."""
    return bool(a.methods & b.methods) and bool(
        a.path_regex.match(_concrete(b.path)) or b.path_regex.match(_concrete(a.path)))


def test_the_shared_path_check_sees_a_literal_segment_behind_a_parameter() -> None:
    """The check above, on a pair it must catch: a literal path another router's parameter also matches."""
    first, second = APIRouter(), APIRouter()
    first.add_api_route("/api/v1/things/{thing_id}", lambda thing_id: {}, methods=["GET"])
    second.add_api_route("/api/v1/things/latest", lambda: {}, methods=["GET"])
    a, b = first.routes[0], second.routes[0]
    assert isinstance(a, APIRoute) and isinstance(b, APIRoute)
    assert _answer_alike(a, b) and _answer_alike(b, a)
    second.routes[0].methods = {"POST"}  # type: ignore[attr-defined]
    assert not _answer_alike(a, b)


def test_a_route_without_a_rule_stops_the_app(app: FastAPI) -> None:
    stray = APIRouter()

    @stray.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    app.include_router(stray)
    with pytest.raises(RuntimeError, match="forgotten"):
        assert_every_route_has_a_rule(app)


def test_a_write_marked_read_only_stops_the_app(app: FastAPI) -> None:
    stray = APIRouter()

    @stray.post("/api/v1/misfiled", dependencies=[Depends(Staff)])
    @read_only
    def misfiled() -> dict[str, str]:
        return {}

    app.include_router(stray)
    with pytest.raises(RuntimeError, match="read-only routes must be reads.*misfiled"):
        assert_every_route_has_a_rule(app)


def test_a_read_only_route_with_a_pooled_dependency_stops_the_app(app: FastAPI) -> None:
    """A read-only route runs on the event loop; a plain ``def`` dependency would hand it to the pool."""
    stray = APIRouter()

    def slow_lookup() -> int:
        return 1

    @stray.get("/api/v1/half-pooled", dependencies=[Depends(Staff)])
    @read_only
    def half_pooled(_: int = Depends(slow_lookup)) -> dict[str, str]:
        return {}

    app.include_router(stray)
    with pytest.raises(RuntimeError, match="only async dependencies.*half-pooled.*slow_lookup"):
        assert_every_route_has_a_rule(app)


def test_role_matrix(tenant: Tenant) -> None:
    """Each role × each route: a role outside the rule gets 403; a role inside never gets 401/403."""
    failures = []
    # Sign-out routes last: they end the very sessions the rest of the matrix uses.
    for method, path, rule in sorted(_routes(tenant.app), key=lambda r: "logout" in r[1]):
        if "*" in rule:
            continue
        for role in ROLES:
            client = tenant.fresh_client(role) if "logout" in path else tenant.client(role)
            headers = {"X-Requested-With": "test"}
            response = client.request(method, _concrete(path), json={}, headers=headers, follow_redirects=False)
            if role in rule and response.status_code in (401, 403):
                failures.append(f"{role} refused on {method} {path}: {response.status_code}")
            if role not in rule and response.status_code != 403:
                failures.append(f"{role} let through on {method} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_anonymous_is_refused_everywhere_but_public_routes(tenant: Tenant) -> None:
    anon = tenant.anonymous()
    for method, path, rule in _routes(tenant.app):
        if "*" in rule:
            continue
        response = anon.request(method, _concrete(path), json={}, follow_redirects=False)
        expected = 303 if not path.startswith("/api/") else 401
        assert response.status_code == expected, f"{method} {path}: {response.status_code}"


def test_cross_clinic_reads_are_404_not_403(tenant: Tenant, other_tenant: Tenant) -> None:
    """Ids of another clinic answer exactly like ids that do not exist."""
    user_id = other_tenant.users["technician"]
    admin = tenant.client("admin")
    assert admin.get(f"/api/v1/users/{user_id}").status_code == 404
    assert admin.get("/api/v1/users/2147483647").status_code == 404
    patch = admin.patch(f"/api/v1/users/{user_id}", json={"active": False, "reason": "take over"})
    assert patch.status_code == 404
    assert all(u["clinic_id"] == tenant.clinic_id for u in admin.get("/api/v1/users").json())
    assert admin.get("/api/v1/clinic").json()["id"] == tenant.clinic_id
