"""The FHIR export is a file download, linked from the course and patient pages for the roles that may take it."""

from __future__ import annotations

import json

from tests.builders.treatable import treatable
from tests.conftest import Tenant
from tests.web.test_pages import signed_in


def test_fhir_export_is_an_attachment_named_for_the_course_and_day(tenant: Tenant) -> None:
    world = treatable(tenant)
    r = signed_in(tenant, "psychiatrist").get(f"/api/v1/courses/{world.course_id}/fhir")
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert disposition == f'attachment; filename="tmsops-course-{world.course_id}-fhir-20261123.json"'
    assert "Doe" not in disposition  # no patient name in a file name
    assert json.loads(r.content)["resourceType"] == "Bundle"


def test_course_and_patient_pages_link_the_download_for_psychiatrists_only(tenant: Tenant) -> None:
    world = treatable(tenant)
    href = f'href="/api/v1/courses/{world.course_id}/fhir" download'
    psych = signed_in(tenant, "psychiatrist")
    assert href in psych.get(f"/courses/{world.course_id}").text
    assert href in psych.get(f"/patients/{world.patient_id}").text
    tech = signed_in(tenant, "technician")
    assert href not in tech.get(f"/patients/{world.patient_id}").text
    assert tech.get(f"/api/v1/courses/{world.course_id}/fhir").status_code == 403
