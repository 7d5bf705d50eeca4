"""The record forms render for the roles that may use them, and blockers link to them (or say who must act)."""

from __future__ import annotations

import re

from tests.builders.clinic import ready_clinic
from tests.conftest import Tenant
from tests.web.test_pages import signed_in


def _blocked_course(tenant: Tenant) -> tuple[int, int]:
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    return pid, int(clinic.course(pid)["id"])


def test_each_blocker_on_the_course_page_links_to_its_form_for_the_role_that_clears_it(tenant: Tenant) -> None:
    pid, cid = _blocked_course(tenant)
    tech = signed_in(tenant, "technician").get(f"/courses/{cid}").text
    section = tech.split('id="course-blockers"')[1].split("</section>")[0]
    assert f'href="/patients/{pid}/screening?course_id={cid}"' in section
    assert "Activate the course: the psychiatrist must do this." in section
    assert f'href="/courses/{cid}/status"' not in section
    psych = signed_in(tenant, "psychiatrist").get(f"/courses/{cid}").text
    section = psych.split('id="course-blockers"')[1].split("</section>")[0]
    assert f'href="/courses/{cid}/status"' in section and f'href="/courses/{cid}/authorization"' in section


def test_record_forms_render_for_their_roles(tenant: Tenant) -> None:
    pid, cid = _blocked_course(tenant)
    tech, psych, admin = (signed_in(tenant, r) for r in ("technician", "psychiatrist", "admin"))
    for path in (f"/patients/{pid}/screening?course_id={cid}", f"/patients/{pid}/motor-threshold?course_id={cid}",
                 f"/patients/{pid}/assessment?course_id={cid}&instrument=HAM-D17", f"/courses/{cid}/plan"):
        page = tech.get(path)
        assert page.status_code == 200 and 'data-api="/api/v1/' in page.text, path
    assert psych.get(f"/patients/{pid}/screening/clearance?course_id={cid}").status_code == 200
    assert psych.get(f"/courses/{cid}/status").status_code == 200
    assert admin.get(f"/courses/{cid}/authorization").status_code == 200
    refused = tech.get(f"/courses/{cid}/status")
    assert refused.status_code == 403 and "You can&#39;t open this" in refused.text


def test_intake_and_course_order_forms_render_for_their_roles(tenant: Tenant) -> None:
    pid, _ = _blocked_course(tenant)
    for role in ("technician", "psychiatrist", "admin"):
        page = signed_in(tenant, role).get("/patients/new")
        assert page.status_code == 200 and 'data-api="/api/v1/patients"' in page.text, role
    order = signed_in(tenant, "psychiatrist").get(f"/patients/{pid}/course")
    assert order.status_code == 200 and 'value="hf10_3000_iti26"' in order.text
    assert signed_in(tenant, "technician").get(f"/patients/{pid}/course").status_code == 403


def test_the_course_order_chooses_the_criteria_set_of_the_patients_own_payer(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    psych = signed_in(tenant, "psychiatrist")
    for payer, chosen in (("Aetna", "aetna_cpb0469"), ("Medicare Part B", "medicare_l37086")):
        html = psych.get(f"/patients/{clinic.patient(payer=payer)}/course").text
        checked = re.findall(r'name="criteria_set_id" value="([^"]+)" checked', html)
        assert checked == [chosen], (payer, checked)
