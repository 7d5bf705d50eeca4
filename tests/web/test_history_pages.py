"""Treatment-history, patient-amendment, eligibility and course amendment pages: each renders its API form for the
roles the API lets act, refuses the others with the friendly page, and links what is missing to the form that
supplies it."""

from __future__ import annotations

import json
import re

from service.core.db import session_scope
from service.models.courses import Course
from tests.builders.clinic import Clinic, ready_clinic
from tests.conftest import Tenant
from tests.web.test_pages import signed_in

REFUSED = "You can&#39;t open this"


def _patient_course(tenant: Tenant) -> tuple[Clinic, int, int]:
    clinic = ready_clinic(tenant)
    pid = clinic.patient()
    return clinic, pid, int(clinic.course(pid)["id"])


def test_history_page_offers_add_and_amend_forms_with_the_drug_table(tenant: Tenant) -> None:
    clinic, pid, _ = _patient_course(tenant)
    trial = clinic.tech.post(f"/api/v1/patients/{pid}/medication-trials",
                             json={"drug": "sertraline", "daily_dose": 100, "start_date": "2026-08-01",
                                   "stop_date": "2026-10-01", "outcome": "no_response"})
    assert trial.status_code == 201, trial.text
    for role in ("technician", "psychiatrist"):
        page = signed_in(tenant, role).get(f"/patients/{pid}/history")
        assert page.status_code == 200, role
        html = page.text
        assert f'data-api="/api/v1/patients/{pid}/medication-trials"' in html
        assert f'data-api="/api/v1/patients/{pid}/psychotherapy-trials"' in html
        assert f'data-api="/api/v1/patients/{pid}/medication-changes"' in html
        assert f'data-api="/api/v1/medication-trials/{trial.json()["id"]}"' in html and "data-amend" in html
    table = json.loads(html.split('id="drug-table">')[1].split("</script>")[0])
    assert table["drugs"]["sertraline"] == {"drug_class": "SSRI", "role": "antidepressant", "min_dose": 50,
                                            "unit": "mg/day"}
    assert '<option value="sertraline">' in html and "counts as a failed adequate trial" in html


def test_patient_amendment_form_is_prefilled_and_asks_for_the_reason(tenant: Tenant) -> None:
    _, pid, _ = _patient_course(tenant)
    for role in ("technician", "psychiatrist", "admin"):  # the API lets every staff role amend a patient
        page = signed_in(tenant, role).get(f"/patients/{pid}/edit")
        assert page.status_code == 200, role
    html = page.text
    assert f'data-method="PATCH" data-api="/api/v1/patients/{pid}"' in html
    assert 'name="reason" required minlength="5"' in html
    assert re.search(r'name="primary_diagnosis"[^>]*value="F3', html) and "On record:" in html


def test_eligibility_and_history_pages_refuse_the_administrator_with_the_friendly_page(tenant: Tenant) -> None:
    _, pid, _ = _patient_course(tenant)
    admin = signed_in(tenant, "admin")
    for path in (f"/patients/{pid}/history", f"/patients/{pid}/eligibility"):
        refused = admin.get(path)
        assert refused.status_code == 403 and REFUSED in refused.text, path


def test_each_missing_eligibility_item_links_to_the_form_that_supplies_it(tenant: Tenant) -> None:
    _, pid, cid = _patient_course(tenant)
    page = signed_in(tenant, "technician").get(f"/patients/{pid}/eligibility")
    assert page.status_code == 200
    html = page.text
    centene = html.split('id="set-centene_cpbh200"')[1].split("</section>")[0]
    links = dict((text, href) for href, text in re.findall(r'<a class="supply" href="([^"]+)">([^<]+)</a>', centene))
    assert links["Medication history for the current episode"] == f"/patients/{pid}/history#medication-trials"
    assert links["Psychotherapy trial and outcome"] == f"/patients/{pid}/history#psychotherapy"
    # The threshold the payer asks for picks the scale; the open course is the one it is recorded under.
    assert links["Baseline PHQ-9 ≥ 15"] == f"/patients/{pid}/assessment?course_id={cid}&amp;instrument=PHQ-9"
    assert links["Psychiatrist evaluation"] == "#profile"
    assert f'data-method="PUT" data-api="/api/v1/patients/{pid}/eligibility-profile"' in html


def test_profile_form_asks_for_a_reason_once_a_profile_exists(tenant: Tenant) -> None:
    clinic, pid, _ = _patient_course(tenant)
    tech = signed_in(tenant, "technician")
    assert 'name="reason"' not in tech.get(f"/patients/{pid}/eligibility").text.split('id="profile"')[1]
    put = clinic.tech.put(f"/api/v1/patients/{pid}/eligibility-profile",
                          json={"psychiatrist_evaluation": True, "conditions": {"seizure_disorder": False}})
    assert put.status_code == 200, put.text
    form = tech.get(f"/patients/{pid}/eligibility").text.split('id="profile"')[1]
    assert 'name="reason" required' in form
    assert re.search(r'name="conditions.seizure_disorder".*?<option value="false" selected>absent', form, re.S)


def test_undocumented_eligibility_blocker_links_the_psychiatrist_to_the_exception_form(tenant: Tenant) -> None:
    _, pid, cid = _patient_course(tenant)
    with session_scope(tenant.app.state.engine) as session:  # a course ordered before eligibility gated ordering
        course = session.get(Course, cid)
        assert course is not None
        course.eligibility_exception = course.eligibility_exception_reason = None
        course.eligibility_status = None
        session.add(course)
    href = f"/patients/{pid}/eligibility?course_id={cid}#exception"
    psych = signed_in(tenant, "psychiatrist")
    section = psych.get(f"/courses/{cid}").text.split('id="course-blockers"')[1].split("</section>")[0]
    assert f'href="{href}"' in section
    tech_section = signed_in(tenant, "technician").get(f"/courses/{cid}").text.split('id="course-blockers"')[1]
    assert "Document why the course is treated: the psychiatrist must do this." in tech_section
    form = psych.get(href.split("#")[0]).text
    assert f'data-api="/api/v1/courses/{cid}/eligibility-exception"' in form


def test_course_amendment_and_extension_pages_are_the_psychiatrists(tenant: Tenant) -> None:
    _, _, cid = _patient_course(tenant)
    psych = signed_in(tenant, "psychiatrist")
    edit = psych.get(f"/courses/{cid}/edit")
    assert edit.status_code == 200
    assert f'data-method="PATCH" data-api="/api/v1/courses/{cid}"' in edit.text and 'data-group="phases"' in edit.text
    extension = psych.get(f"/courses/{cid}/extension")
    assert extension.status_code == 200 and "has no extension rule" in extension.text  # standard-36 has none
    tech = signed_in(tenant, "technician")
    for path in (f"/courses/{cid}/edit", f"/courses/{cid}/extension"):
        refused = tech.get(path)
        assert refused.status_code == 403 and REFUSED in refused.text, path
    course_page = psych.get(f"/courses/{cid}").text
    assert f'href="/courses/{cid}/edit"' in course_page and f'href="/courses/{cid}/extension"' in course_page
    assert f'href="/courses/{cid}/edit"' not in tech.get(f"/courses/{cid}").text


def test_course_order_carries_each_protocols_parameters_for_the_live_safety_check(tenant: Tenant) -> None:
    _, pid, _ = _patient_course(tenant)
    html = signed_in(tenant, "psychiatrist").get(f"/patients/{pid}/course").text
    params = re.search(r'value="hf10_3000_iti26"[^>]*data-params="([^"]+)"', html)
    assert params is not None
    decoded = json.loads(params.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert decoded["frequency_hz"] == 10 and decoded["trains"] == 75 and "intensity_pct_mt" not in decoded
    assert 'id="safety-check"' in html and "/static/protocol_check.js" in html


def test_patient_page_links_the_new_pages(tenant: Tenant) -> None:
    _, pid, _ = _patient_course(tenant)
    html = signed_in(tenant, "technician").get(f"/patients/{pid}").text
    for path in ("edit", "history", "eligibility"):
        assert f'href="/patients/{pid}/{path}"' in html, path


def test_extension_page_shows_the_rule_why_it_does_not_apply_yet_and_the_form(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    cid = int(clinic.course(clinic.patient(), template_id="medicare-20")["id"])
    page = signed_in(tenant, "psychiatrist").get(f"/courses/{cid}/extension")
    assert page.status_code == 200
    html = page.text
    assert 'id="extension-rule"' in html and "no PHQ-9 with a course baseline" in html
    reasons = html.split('id="extension-reasons"')[1].split("</ul>")[0]
    assert "only an active course is extended" in reasons
    assert f'data-api="/api/v1/courses/{cid}/extension"' in html
    assert re.search(r'<button type="submit" class="primary big" disabled', html)
