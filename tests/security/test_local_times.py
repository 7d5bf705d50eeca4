"""Local wall-clock times (opening hours, shifts, session windows) refuse a UTC offset instead of dropping it.

Found while fuzzing: "08:00:00+05:00" was stored as 08:00 clinic time, and a number was read as
seconds after midnight UTC; the schema claimed RFC 3339 ``time`` (which requires an offset).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders.clinic import WRITE, error_field, ready_clinic
from tests.conftest import Tenant
from tests.security.dbstate import changes, snapshot


def _hours(open_: Any) -> dict[str, Any]:
    return {"reason": "opening hours", "setup_buffer_minutes": 10, "country": "US", "subdivision": "MA",
            "hours": [{"weekday": 0, "open": open_, "close": "18:00"}]}


@pytest.mark.parametrize("value", ["08:00:00+05:00", "08:00Z", 28800, "8 am"])
def test_opening_hours_refuse_an_offset_or_a_number_and_store_nothing(tenant: Tenant, value: Any) -> None:
    admin = tenant.client("admin")
    before = snapshot(tenant.app.state.engine, tenant.clinic_id)
    response = admin.put("/api/v1/calendar", json=_hours(value), headers=WRITE)
    assert response.status_code == 422 and error_field(response) == "hours[0].open", response.text
    assert not changes(before, snapshot(tenant.app.state.engine, tenant.clinic_id))


def test_local_times_without_offset_are_taken_and_sent_back_as_written(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    admin = tenant.client("admin")
    assert admin.put("/api/v1/calendar", json=_hours("07:30"), headers=WRITE).json()["hours"][0]["open"] == "07:30:00"
    shifts = {"reason": "weekly rota", "shifts": [{"weekday": 1, "start": "09:00+01:00", "end": "17:00"}]}
    refused = admin.put(f"/api/v1/calendar/shifts/{clinic.technician_id}", json=shifts, headers=WRITE)
    assert refused.status_code == 422 and error_field(refused) == "shifts[0].start"
    course = clinic.course(window_start="08:00", window_end="12:00")
    assert (course["window_start"], course["window_end"]) == ("08:00:00", "12:00:00")
    body = {"patient_id": clinic.patient(), "protocol_id": "hf10_3000_iti26", "intensity_pct_mt": 120,
            "window_start": "08:00-05:00"}
    refused = clinic.psych.post("/api/v1/courses", json=body)
    assert refused.status_code == 422 and error_field(refused) == "window_start"
