"""Settings, the error shape, and the hostile-input guards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from config.settings import DEFAULT_AUDIT_KEY, DEFAULT_SECRET, Settings
from service.api.request_limits import _too_deep
from tests.conftest import Tenant


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="TMS_SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET, audit_key="a" * 40)
    Settings(environment="production", secret_key="s" * 40, audit_key="a" * 40)  # real secrets are fine


def test_production_refuses_the_default_audit_key() -> None:
    with pytest.raises(ValidationError, match="TMS_AUDIT_KEY"):
        Settings(environment="production", secret_key="s" * 40, audit_key=DEFAULT_AUDIT_KEY)
    with pytest.raises(ValidationError, match="TMS_AUDIT_KEY must be at least 32"):
        Settings(environment="production", secret_key="s" * 40, audit_key="short")


def test_settings_come_from_tms_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMS_SESSION_IDLE_MINUTES", "7")
    monkeypatch.setenv("TMS_DATABASE_URL", "sqlite:///elsewhere.db")
    s = Settings()
    assert s.session_idle_minutes == 7 and s.database_url == "sqlite:///elsewhere.db"


def test_health_is_public(tenant: Tenant) -> None:
    assert tenant.anonymous().get("/api/v1/health").json() == {"status": "ok"}


def test_unknown_route_uses_the_error_shape(tenant: Tenant) -> None:
    r = tenant.client("technician").get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_bad_path_id_is_a_named_422(tenant: Tenant) -> None:
    for bad in ("abc", "0", "99999999999"):
        r = tenant.client("technician").get(f"/api/v1/patients/{bad}")
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "patient_id", bad


def test_oversized_body_is_refused_before_parsing(tenant: Tenant) -> None:
    big = "x" * 1_100_000
    r = tenant.client("technician").post("/api/v1/patients", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_deeply_nested_json_is_refused(tenant: Tenant) -> None:
    nested = "[" * 200 + "]" * 200
    r = tenant.client("technician").post("/api/v1/patients", content=nested,
                                         headers={"content-type": "application/json"})
    assert r.status_code == 422 and "nested" in r.json()["error"]["message"]


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


# Strings full of what a depth count must not be fooled by: brackets, quotes and backslashes.
_TRICKY_TEXT = st.text(alphabet='[]{}"\\ab\n', max_size=8)
_JSON = st.recursive(st.none() | st.integers() | _TRICKY_TEXT,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
                     max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(document=_JSON, limit=st.integers(min_value=0, max_value=8), ascii_only=st.booleans())
def test_the_nesting_check_counts_the_depth_of_any_json_document_exactly(
        document: Any, limit: int, ascii_only: bool) -> None:
    body = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert _too_deep(body, limit) == (_depth(document) > limit)


def test_docs_and_login_page_are_served(tenant: Tenant) -> None:
    client: TestClient = tenant.anonymous()
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "tmsops"
    login = client.get("/login")
    assert login.status_code == 200 and 'name="password"' in login.text
