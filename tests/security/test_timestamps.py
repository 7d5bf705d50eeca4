"""Timestamps leave the API as RFC 3339 date-times with an offset, the same instant on both databases.

Found by schemathesis: on SQLite every timestamp came back without an offset ("2026-11-23T14:00:00"),
which is not the ``date-time`` the schema promises and not what PostgreSQL answers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.builders.records import WRITE, new_patient
from tests.conftest import T0, Tenant


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"{text!r} has no UTC offset"
    return moment.astimezone(UTC)


def test_timestamps_carry_an_offset_and_keep_their_instant(tenant: Tenant) -> None:
    pid = new_patient(tenant)
    client = tenant.client("technician")
    patient = client.get(f"/api/v1/patients/{pid}").json()
    assert _instant(patient["created_at"]) == T0 and _instant(patient["updated_at"]) == T0

    # An offset other than UTC is stored as the same instant, not as its wall-clock time.
    created = client.post(f"/api/v1/patients/{pid}/assessments", headers=WRITE, json={
        "instrument": "PHQ-9", "administered_at": "2026-11-23T08:30:00-05:00",
        "items": [1, 1, 1, 1, 1, 1, 1, 1, 0, None]})
    assert created.status_code == 201, created.text
    stored = client.get(f"/api/v1/patients/{pid}/assessments").json()[0]
    assert _instant(stored["administered_at"]) == datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
