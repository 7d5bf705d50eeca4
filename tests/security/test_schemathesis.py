"""Schemathesis against the app's own OpenAPI schema: every operation, as every role, on both databases.

For each role (and anonymous) every operation in ``/openapi.json`` gets generated requests, in process
through the ASGI app of the ``tenant`` fixture, with path ids pointing at real rows of the tenant's clinic
(tests/security/world.py) so requests get past the 404 into the handlers:

- roles the route admits: schema-conforming data (positive) and data the schema forbids (negative).
  Checks: no 5xx (nor an exception escaping the app), the response matches its documented schema and
  content type, a documented status code, and a request the schema forbids never gets a 2xx;
- roles the route does not admit: one request, which must be a 403; anonymous callers: a 401.

Auth holds for the whole run: cases of the sign-out route each use a session of their own, and user ids
in paths name a spare account, never a role's (a generated PATCH could deactivate it). Random logins use
random usernames, so they cannot lock out the tenant's accounts.

Budget: ``TMS_FUZZ_EXAMPLES`` examples per operation, role and mode (default 3; CI uses the default).
Generation is derandomized, so a run is repeatable; raise the number for a longer hunt, e.g.
``TMS_FUZZ_EXAMPLES=50 .venv/bin/python -m pytest tests/security/test_schemathesis.py``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from service.api.deps import route_roles
from service.app import api_routes
from service.models.users import Role
from tests.conftest import Tenant
from tests.security.world import SecurityWorld, build

EXAMPLES = int(os.environ.get("TMS_FUZZ_EXAMPLES", "3"))
ROLES = [r.value for r in Role]
ENDS_ITS_SESSION = {("POST", "/api/v1/auth/logout")}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]


@dataclass(frozen=True)
class Finding:
    operation: str
    role: str
    mode: str
    title: str
    detail: str

    def line(self) -> str:
        return f"{self.operation} as {self.role} ({self.mode}): {self.title}\n    {self.detail}"


@pytest.fixture
def world(tenant: Tenant) -> SecurityWorld:
    return build(tenant)


def _rules(tenant: Tenant) -> dict[tuple[str, str], frozenset[str]]:
    rules: dict[tuple[str, str], frozenset[str]] = {}
    for route in api_routes(tenant.app):
        rule = route_roles(route.dependant) or frozenset()
        for method in route.methods:
            rules[(method, route.path)] = rule
    return rules


def _run(strategy: Any, examples: int, call: Callable[[Any], None]) -> None:
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def cases(case: Any) -> None:
        call(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to negate (an operation without parameters or body)
        cases()


def _headers(tenant: Tenant, role: str, ends_its_session: bool) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if ends_its_session:  # a session of its own, so the role's session survives the case
        return {"Authorization": tenant.fresh_client(role).headers["Authorization"]}
    return {"Authorization": f"Bearer {tenant.tokens[role]}"}


def _tame(world: SecurityWorld, case: Any) -> None:
    """Keep a generated case from ending the run: no role account in a user path, no waiting on a long poll."""
    user_id = (case.path_parameters or {}).get("user_id")
    if isinstance(user_id, int) and user_id in world.tenant.users.values():
        case.path_parameters["user_id"] = world.spare_user_id
    wait = (case.query or {}).get("wait")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and 0 < wait <= 30:
        case.query["wait"] = 0  # a valid wait only makes the request sleep; tests never wait on time


def _fuzz_operation(world: SecurityWorld, role: str, operation: Any, rule: frozenset[str], examples: int,
                    findings: dict[tuple[str, str, str], Finding], called: set[str]) -> None:
    tenant = world.tenant
    method, path, label = operation.method.upper(), operation.path, operation.label
    admitted = "*" in rule or role in rule
    expected = None if admitted else (401 if role == "anonymous" else 403)

    def note(key: str, mode: str, title: str, detail: str) -> None:
        findings.setdefault((label, key, title), Finding(label, role, mode, title, detail.strip()[:600]))

    def call(case: Any, mode: str) -> None:
        called.add(label)
        _tame(world, case)
        headers = _headers(tenant, role, (method, path) in ENDS_ITS_SESSION)
        try:
            response = case.call_and_validate(headers=headers, checks=NEGATIVE_CHECKS if mode == "negative" else CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                note(type(failure).__name__, mode, failure.title, failure.message or "")
            return
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a server error
            note("exception", mode, f"{type(exc).__name__} escaped the app", str(exc))
            return
        if expected is not None and response.status_code != expected:
            note("access", mode, "role rule not enforced", f"expected {expected}, got {response.status_code}")

    ids = world.path_ids(path)
    if not admitted:
        _run(operation.as_strategy(path_parameters=ids), 1, lambda c: call(c, "positive"))
        return
    _run(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=ids), examples, lambda c: call(c, "positive"))
    _run(operation.as_strategy(GenerationMode.NEGATIVE), examples, lambda c: call(c, "negative"))


def fuzz(world: SecurityWorld, role: str, examples: int = EXAMPLES) -> tuple[list[Finding], set[str], set[str]]:
    """Every operation of the schema as ``role`` ("anonymous" for no credentials): the findings (deduplicated),
    the operations in the schema, and those that received at least one request."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.tenant.app)
    rules = _rules(world.tenant)
    findings: dict[tuple[str, str, str], Finding] = {}
    every: set[str] = set()
    called: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        every.add(operation.label)
        _fuzz_operation(world, role, operation, rules[(operation.method.upper(), operation.path)], examples, findings,
                        called)
    return list(findings.values()), every, called


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_operation_holds_as_each_role(world: SecurityWorld, role: str) -> None:
    findings, every, called = fuzz(world, role)
    assert len(every) >= 60 and called == every, f"never requested: {sorted(every - called)}"
    assert not findings, f"{len(findings)} finding(s):\n" + "\n".join(f.line() for f in findings)
