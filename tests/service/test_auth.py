"""Sign-in: tokens, idle and absolute timeouts (frozen clock), throttling, logout, cookies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.core.clock import FrozenClock
from tests.conftest import PASSWORD, Tenant


def _login(tenant: Tenant, role: str, password: str = PASSWORD) -> tuple[int, dict]:
    r = tenant.anonymous().post("/api/v1/auth/token", data={"username": tenant.usernames[role], "password": password})
    return r.status_code, r.json()


def test_token_identifies_the_user(tenant: Tenant) -> None:
    me = tenant.client("psychiatrist").get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["role"] == "psychiatrist" and me.json()["clinic_id"] == tenant.clinic_id


def test_wrong_password_and_unknown_user_get_the_same_answer(tenant: Tenant) -> None:
    status, body = _login(tenant, "technician", "wrong password!!")
    unknown = tenant.anonymous().post("/api/v1/auth/token", data={"username": "nobody-here", "password": "x" * 12})
    assert status == unknown.status_code == 401
    assert body["error"]["message"] == unknown.json()["error"]["message"] == "wrong username or password"


def test_no_token_and_a_bad_token_are_401(tenant: Tenant) -> None:
    assert tenant.anonymous().get("/api/v1/patients").status_code == 401
    bad = tenant.anonymous().get("/api/v1/patients", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"


def test_idle_timeout_signs_out(tenant: Tenant, clock: FrozenClock) -> None:
    client = tenant.client("technician")
    clock.advance(timedelta(minutes=14, seconds=59))
    assert client.get("/api/v1/auth/me").status_code == 200  # activity resets the idle timer
    clock.advance(timedelta(minutes=14, seconds=59))
    assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    expired = client.get("/api/v1/auth/me")
    assert expired.status_code == 401 and "without activity" in expired.json()["error"]["message"]


def test_keep_alive_refreshes_the_idle_timer(tenant: Tenant, clock: FrozenClock) -> None:
    client = tenant.client("technician")
    for _ in range(3):  # 42 minutes, kept alive by the page every 14
        clock.advance(timedelta(minutes=14))
        assert client.post("/api/v1/auth/keep-alive", headers={"X-Requested-With": "fetch"}).status_code == 204
    clock.advance(timedelta(minutes=15, seconds=1))
    assert client.post("/api/v1/auth/keep-alive", headers={"X-Requested-With": "fetch"}).status_code == 401


def test_sign_in_returns_only_to_a_page_of_this_site() -> None:
    from service.web.pages import safe_next

    assert [safe_next(t) for t in ("/courses/3?tab=1", "//evil.example/x", "https://evil.example", "/\\evil", "")] \
        == ["/courses/3?tab=1", "/", "/", "/", "/"]


def test_absolute_lifetime_signs_out_even_when_active(tenant: Tenant, clock: FrozenClock) -> None:
    client = tenant.client("technician")
    for _ in range(12 * 6 - 1):  # every 10 minutes for just under 12 hours
        clock.advance(timedelta(minutes=10))
        assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(timedelta(minutes=10, seconds=1))
    expired = client.get("/api/v1/auth/me")
    assert expired.status_code == 401 and "at most 12 h" in expired.json()["error"]["message"]


def test_logout_ends_the_token(tenant: Tenant) -> None:
    client = tenant.client("admin")
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_repeated_failures_lock_the_account_for_a_while(tenant: Tenant, clock: FrozenClock) -> None:
    for _ in range(5):
        assert _login(tenant, "psychiatrist", "wrong password!!")[0] == 401
    status, body = _login(tenant, "psychiatrist")  # the right password no longer gets in
    assert status == 429 and "too many failed logins" in body["error"]["message"]
    clock.advance(timedelta(minutes=16))
    assert _login(tenant, "psychiatrist")[0] == 200


def test_deactivated_user_is_signed_out(tenant: Tenant) -> None:
    tech_id = tenant.users["technician"]
    tech = tenant.client("technician")
    r = tenant.client("admin").patch(f"/api/v1/users/{tech_id}", json={"active": False, "reason": "left the clinic"})
    assert r.status_code == 200 and r.json()["active"] is False
    assert tech.get("/api/v1/auth/me").status_code == 401
    assert _login(tenant, "technician")[0] == 401


def test_cookie_login_and_csrf_header_for_api_writes(tenant: Tenant) -> None:
    browser = tenant.anonymous()
    r = browser.post("/login", data={"username": tenant.usernames["technician"], "password": PASSWORD},
                     follow_redirects=False)
    assert r.status_code == 303 and "tmsops_session" in r.cookies
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    home = browser.get("/")
    assert home.status_code == 200 and "Signed in as" in home.text
    assert browser.get("/api/v1/auth/me").status_code == 200
    assert browser.post("/api/v1/auth/logout").status_code == 403  # cookie write without the header
    assert browser.post("/api/v1/auth/logout", headers={"X-Requested-With": "tmsops"}).status_code == 204
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_login_page_shows_an_error_for_a_wrong_password(tenant: Tenant) -> None:
    r = tenant.anonymous().post("/login", data={"username": tenant.usernames["technician"], "password": "nope"})
    assert r.status_code == 401 and "Wrong username or password" in r.text


@pytest.mark.parametrize("role", ["technician", "psychiatrist", "agent"])
def test_only_admins_manage_users(tenant: Tenant, role: str) -> None:
    body = {"username": "newbie-x", "display_name": "N", "role": "technician", "password": "x" * 12}
    assert tenant.client(role).post("/api/v1/users", json=body).status_code == 403


def test_admin_creates_a_user_who_can_sign_in(tenant: Tenant) -> None:
    import uuid

    name = f"new-{uuid.uuid4().hex[:6]}"
    body = {"username": name, "display_name": "New Tech", "role": "technician", "password": "long enough pw"}
    created = tenant.client("admin").post("/api/v1/users", json=body)
    assert created.status_code == 201 and created.json()["clinic_id"] == tenant.clinic_id
    assert "password" not in created.text and "hash" not in created.text
    r = tenant.anonymous().post("/api/v1/auth/token", data={"username": name, "password": "long enough pw"})
    assert r.status_code == 200
    dup = tenant.client("admin").post("/api/v1/users", json=body)
    assert dup.status_code == 409 and "taken" in dup.json()["error"]["message"]
