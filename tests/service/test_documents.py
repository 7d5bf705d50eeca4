"""Documents: the FHIR Bundle validates (R4B models), CSV carries deviations, the packet lists what is missing."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.builders.treatable import treatable, with_history
from tests.conftest import Tenant
from tests.web.test_pages import signed_in

FHIR = pytest.importorskip("fhir.resources.R4B.bundle", reason="fhir.resources is a test extra")


def _bundle(tenant: Tenant, course_id: int) -> dict[str, Any]:
    r = tenant.client("psychiatrist").get(f"/api/v1/courses/{course_id}/fhir")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return dict(r.json())


def test_fhir_bundle_validates_against_r4b(tenant: Tenant) -> None:
    world = with_history(treatable(tenant))
    body = _bundle(tenant, world.course_id)
    bundle = FHIR.Bundle.model_validate(body)  # raises on any structural error
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert {"Patient", "Practitioner", "Device", "ServiceRequest", "Procedure", "Observation",
            "AdverseEvent"} <= set(kinds)
    assert kinds.count("Procedure") == 3
    urls = {e.fullUrl for e in bundle.entry}
    for entry in body["entry"]:  # every reference resolves inside the bundle
        for ref in _references(entry["resource"]):
            assert ref in urls, ref


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def _codes(resource: dict[str, Any]) -> list[str]:
    return [c["code"] for c in resource.get("code", {}).get("coding", [])]


def test_fhir_codes_cpt_per_session_and_phq9_loinc_panel(tenant: Tenant) -> None:
    world = with_history(treatable(tenant))
    resources = [e["resource"] for e in _bundle(tenant, world.course_id)["entry"]]
    procedures = [r for r in resources if r["resourceType"] == "Procedure"]
    assert [r["code"]["coding"][0] for r in procedures] == [
        {"system": "http://www.ama-assn.org/go/cpt", "code": c} for c in ("90867", "90868", "90868")]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    panels = [o for o in observations if _codes(o) == ["44249-1"]]
    totals = [o for o in observations if _codes(o) == ["44261-6"]]
    assert len(panels) == 4 and len(totals) == 4
    assert len(panels[0]["hasMember"]) == 10  # the total and nine items
    item9 = [o for o in observations if _codes(o) == ["44260-8"]]
    assert len(item9) == 4 and all(o["valueInteger"] == 0 for o in item9)
    assert sorted(t["valueInteger"] for t in totals) == [3, 7, 13, 18]
    ae = next(r for r in resources if r["resourceType"] == "AdverseEvent")
    assert ae["seriousness"]["coding"][0]["code"] == "non-serious" and ae["severity"]["coding"][0]["code"] == "mild"


def test_csv_export_lists_sessions_with_deviations(tenant: Tenant) -> None:
    world = with_history(treatable(tenant))
    r = tenant.client("admin").get(f"/api/v1/courses/{world.course_id}/sessions.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["sequence"] for row in rows] == ["1", "2", "3", "4"]
    assert rows[2]["deviations"] == "40 of 3000 pulses not delivered" and rows[0]["deviations"] == ""
    assert rows[3]["booking_status"] == "booked" and rows[3]["pulses_delivered"] == ""


def test_exports_are_for_paperwork_roles_of_the_same_clinic(tenant: Tenant, other_tenant: Tenant) -> None:
    world = treatable(tenant)
    assert tenant.client("technician").get(f"/api/v1/courses/{world.course_id}/fhir").status_code == 403
    assert other_tenant.client("psychiatrist").get(f"/api/v1/courses/{world.course_id}/fhir").status_code == 404
    assert other_tenant.client("admin").get(f"/api/v1/courses/{world.course_id}/sessions.csv").status_code == 404
    assert signed_in(other_tenant, "psychiatrist").get(f"/courses/{world.course_id}/packet").status_code == 404


def test_packet_lists_missing_evidence_instead_of_inventing_it(tenant: Tenant) -> None:
    world = treatable(tenant)
    page = signed_in(tenant, "psychiatrist").get(f"/courses/{world.course_id}/packet",
                                                params={"criteria": "aetna_cpb0469"})
    assert page.status_code == 200
    missing = page.text.split('id="missing"')[1].split("</section>")[0]
    for gap in ("baseline standardized scale score", "medication history for the current episode",
                "psychotherapy trial", "face-to-face evaluation", "ECT status"):
        assert gap in missing, gap
    assert "No baseline score recorded for this course." in page.text
    assert "90867" in page.text and "90868" in page.text
    bad = signed_in(tenant, "psychiatrist").get(f"/courses/{world.course_id}/packet", params={"criteria": "nope"})
    assert bad.status_code == 422


def test_packet_shows_recorded_trials_and_drops_filled_gaps(tenant: Tenant) -> None:
    world = with_history(treatable(tenant))
    ok = world.psych.post(f"/api/v1/patients/{world.patient_id}/medication-trials", json={
        "drug": "sertraline", "daily_dose": 150, "start_date": "2026-03-01", "stop_date": "2026-05-15",
        "outcome": "no_response"})
    assert ok.status_code == 201, ok.text
    page = signed_in(tenant, "psychiatrist").get(f"/courses/{world.course_id}/packet").text
    missing = page.split('id="missing"')[1].split("</section>")[0]
    assert "baseline standardized scale score" not in missing
    assert "medication history for the current episode" not in missing
    assert "sertraline" in page and "PHQ-9 18/27" in page


def test_end_of_course_summary_shows_scores_and_signature_state(tenant: Tenant) -> None:
    world = with_history(treatable(tenant))
    psych = signed_in(tenant, "psychiatrist")
    page = psych.get(f"/courses/{world.course_id}/summary")
    assert page.status_code == 200
    assert "No end-of-course summary written yet" in page.text and "Dr. Who" in page.text
    review = world.psych.post(f"/api/v1/courses/{world.course_id}/reviews", json={
        "kind": "end_of_course", "note": "Remission on PHQ-9 after 20 sessions.", "plan": "Follow up monthly."})
    assert review.status_code == 201
    page = psych.get(f"/courses/{world.course_id}/summary")
    assert "Remission on PHQ-9" in page.text and "is not signed" in page.text
    assert "18 (2026-11-02)" in page.text and "3 (2026-11-23)" in page.text


def test_burst_protocol_sessions_show_without_a_train_frequency(tenant: Tenant) -> None:
    from sqlmodel import select

    from service.core.db import session_scope
    from service.models.sessions import TreatmentSession

    world = with_history(treatable(tenant, protocol_id="itbs_600", model="magventure-x100"))
    with session_scope(tenant.app.state.engine) as s:  # iTBS sessions record the burst rate, not a train rate
        for ts in s.exec(select(TreatmentSession).where(TreatmentSession.course_id == world.course_id)).all():
            ts.protocol_id, ts.frequency_hz = "itbs_600", 5.0
            s.add(ts)
    page = signed_in(tenant, "psychiatrist").get(f"/courses/{world.course_id}")
    assert page.status_code == 200 and "Hz, prescribed" not in page.text
    assert tenant.client("psychiatrist").get(f"/api/v1/courses/{world.course_id}/sessions.csv").status_code == 200
