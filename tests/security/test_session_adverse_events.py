"""The one-tap adverse event at the chair refuses what the adverse-event record refuses, by field, with a 422.

Found by schemathesis: the chair's shape took an empty seriousness criterion and an onset time
without an offset, the route then built the stricter AdverseEventCreate from it, and its ValidationError
escaped as a 500.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders.records import WRITE
from tests.conftest import Tenant
from tests.security.dbstate import changes, snapshot
from tests.security.world import build


@pytest.mark.parametrize(("extra", "field"), [
    ({"seriousness_criteria": ["hospitalisation", ""]}, "seriousness_criteria[1]"),
    ({"onset_at": "2026-11-23T13:50:00"}, "onset_at"),
    ({"relatedness": ""}, "relatedness"),
    ({"term": ""}, "term"),
])
def test_a_chair_adverse_event_is_refused_by_field_and_stores_nothing(tenant: Tenant, extra: dict[str, Any],
                                                                       field: str) -> None:
    world = build(tenant)
    url = f"/api/v1/sessions/{world.ids['session_id']}/adverse-events"
    before = snapshot(tenant.app.state.engine, tenant.clinic_id)
    response = tenant.client("technician").post(url, json={"term": "headache", "grade": 1} | extra, headers=WRITE)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field
    assert not changes(before, snapshot(tenant.app.state.engine, tenant.clinic_id))
    assert tenant.client("technician").post(url, json={"term": "headache", "grade": 1}).status_code == 201
