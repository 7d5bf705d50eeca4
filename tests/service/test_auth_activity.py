"""Sign-in activity is recorded at a coarse step, so a read writes nothing; ends of a session still act at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from service.core.clock import FrozenClock, as_utc
from service.models.auth import AuthSession
from tests.conftest import Tenant

STEP = timedelta(seconds=30)  # the default TMS_SESSION_TOUCH_SECONDS


def _last_seen(tenant: Tenant, role: str) -> datetime:
    with Session(tenant.app.state.engine) as session:
        row = session.exec(select(AuthSession).where(AuthSession.user_id == tenant.users[role])
                           .order_by(col(AuthSession.id).desc())).first()
    assert row is not None
    return as_utc(row.last_seen_at)


def test_reads_within_the_step_record_no_activity(tenant: Tenant, clock: FrozenClock) -> None:
    client = tenant.client("technician")
    signed_in = _last_seen(tenant, "technician")
    for _ in range(3):
        clock.advance(timedelta(seconds=9))
        assert client.get("/api/v1/auth/me").status_code == 200
    assert _last_seen(tenant, "technician") == signed_in  # 27 s of reads wrote nothing
    clock.advance(STEP - timedelta(seconds=27))
    assert client.get("/api/v1/auth/me").status_code == 200
    assert _last_seen(tenant, "technician") == signed_in + STEP == clock.now()


def test_idle_timeout_counts_from_the_recorded_activity_so_it_is_never_late(tenant: Tenant,
                                                                           clock: FrozenClock) -> None:
    client = tenant.client("technician")
    signed_in = _last_seen(tenant, "technician")
    clock.advance(STEP - timedelta(seconds=1))
    assert client.get("/api/v1/auth/me").status_code == 200  # inside the step: not recorded
    clock.advance(signed_in + timedelta(minutes=15, seconds=1) - clock.now())
    expired = client.get("/api/v1/auth/me")
    assert expired.status_code == 401 and "without activity" in expired.json()["error"]["message"]


def test_logout_inside_the_step_ends_the_token_at_once(tenant: Tenant, clock: FrozenClock) -> None:
    client = tenant.client("admin")
    clock.advance(timedelta(seconds=5))
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    clock.advance(timedelta(seconds=1))
    assert client.get("/api/v1/auth/me").status_code == 401


def test_deactivation_inside_the_step_signs_out_at_once(tenant: Tenant, clock: FrozenClock) -> None:
    tech = tenant.client("technician")
    clock.advance(timedelta(seconds=5))
    assert tech.get("/api/v1/auth/me").status_code == 200
    r = tenant.client("admin").patch(f"/api/v1/users/{tenant.users['technician']}",
                                     json={"active": False, "reason": "left the clinic"})
    assert r.status_code == 200
    refused = tech.get("/api/v1/auth/me")
    assert refused.status_code == 401 and "deactivated" in refused.json()["error"]["message"]
