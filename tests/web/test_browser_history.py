"""In the browser: a medication trial recorded through the drug picker shows its adequacy as it is typed; the
eligibility page then counts it and its missing items lead to the forms that supply them; the eligibility profile
is saved; the patient's record is amended with a reason (only the changed field is sent); the course order shows
the safety table's verdict live. Every change is read back through the API."""

from __future__ import annotations

import re
from typing import Any

from tests.builders.clinic import ready_clinic
from tests.conftest import Tenant
from tests.web.conftest import DESKTOP, TABLET, Live, login, shot


def _api(tenant: Tenant, role: str, path: str) -> Any:
    answer = tenant.client(role).get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _criterion(page: Any, criteria_set: str, criterion: str) -> str:
    return str(page.locator(f"#set-{criteria_set} li", has_text=criterion).first.inner_text())


def test_trial_through_the_picker_then_eligibility_links_and_a_patient_amendment(browser: Any, live: Live,
                                                                                 live_tenant: Tenant) -> None:
    clinic = ready_clinic(live_tenant)
    pid = clinic.patient()
    cid = int(clinic.course(pid)["id"])
    before = _api(live_tenant, "technician", f"/api/v1/patients/{pid}")

    tech = login(browser, live, live_tenant, "technician", TABLET)
    tech.goto(f"/patients/{pid}")
    tech.click("#patient-actions >> text=Treatment history")
    tech.wait_for_url(f"**/patients/{pid}/history")
    form = tech.locator("#add-trial")
    form.locator('input[name="drug"]').fill("sertraline")
    form.locator('input[name="daily_dose"]').fill("25")
    form.locator('input[name="start_date"]').fill("2026-08-03")
    form.locator('input[name="stop_date"]').fill("2026-10-12")
    verdict = form.locator(".adequacy")
    assert "Class: SSRI · dose in mg/day" in verdict.inner_text()
    assert "Dose below the minimum effective 50 mg/day." in verdict.inner_text()
    assert "Not an adequate trial yet." in verdict.inner_text()
    assert form.locator('input[name="dose_unit"]').input_value() == "mg/day"
    form.locator('input[name="daily_dose"]').fill("100")
    assert "Adequate dose: 100 ≥ 50 mg/day." in verdict.inner_text()
    assert "Duration 70 days ≥ 6 weeks." in verdict.inner_text()
    assert "Adequate trial (dose and duration)." in verdict.inner_text()
    form.locator('select[name="outcome"]').select_option("no_response")
    shot(tech, "history-1-trial-picker")
    form.locator("button[type=submit]").click()
    tech.wait_for_selector("#medication-trials tr[id^=trial-]")
    trials = _api(live_tenant, "technician", f"/api/v1/patients/{pid}/medication-trials")
    assert [(t["drug"], t["daily_dose"], t["dose_unit"], t["outcome"]) for t in trials] == [
        ("sertraline", 100, "mg/day", "no_response")]
    assert trials[0]["assessment"]["counts_as_failure"] is True
    assert "counts as a failed adequate trial" in tech.locator(f"#trial-{trials[0]['id']}").inner_text()

    change = tech.locator("#add-change")
    change.locator('input[name="drug"]').fill("lithium")
    assert "CNS-active: the motor threshold is re-determined" in change.locator(".adequacy").inner_text()
    change.locator('input[name="drug"]').fill("sertraline")
    assert "CNS-active" not in change.locator(".adequacy").inner_text()

    tech.goto(f"/patients/{pid}")
    tech.click("#patient-actions >> text=Eligibility")
    tech.wait_for_url(f"**/patients/{pid}/eligibility")
    # One failed adequate trial is what L34522 asks for; L37086 asks for two, and still says what is missing.
    assert "Medication trials: met —" in _criterion(tech, "medicare_l34522", "Medication trials")
    assert "Medication trials: not met —" in _criterion(tech, "medicare_l37086", "Medication trials")
    evaluation = tech.locator("#set-medicare_l34522 a.supply", has_text="Psychiatrist evaluation")
    evaluation.click()
    tech.select_option('#profile-form select[name="psychiatrist_evaluation"]', "true")
    tech.fill('#profile-form input[name="psychiatrist_evaluated_on"]', "2026-11-20")
    shot(tech, "history-2-eligibility")
    tech.click("#profile-form button[type=submit]")
    tech.wait_for_selector("#profile .muted >> text=Version 1")
    profile = _api(live_tenant, "technician", f"/api/v1/patients/{pid}/eligibility-profile")
    assert profile["psychiatrist_evaluation"] is True and profile["psychiatrist_evaluated_on"] == "2026-11-20"
    assert "Psychiatrist evaluation: met —" in _criterion(tech, "medicare_l34522", "Psychiatrist evaluation")
    tech.locator("#set-medicare_l34522 a.supply", has_text="Baseline score").click()
    tech.wait_for_url(f"**/patients/{pid}/assessment?course_id={cid}&instrument=PHQ-9")
    assert tech.locator("#assessment").count() == 1

    tech.goto(f"/patients/{pid}")
    tech.click("#patient-actions >> text=Amend the record")
    tech.wait_for_url(f"**/patients/{pid}/edit")
    tech.fill('#patient-edit input[name="payer"]', "Aetna")
    tech.click("#patient-edit button[type=submit]")  # the reason is required: the browser refuses to send
    assert tech.url.endswith(f"/patients/{pid}/edit")
    assert _api(live_tenant, "technician", f"/api/v1/patients/{pid}")["version"] == before["version"]
    tech.fill('#patient-edit textarea[name="reason"]', "Patient changed insurer at open enrolment.")
    shot(tech, "history-3-patient-amend")
    tech.click("#patient-edit button[type=submit]")
    tech.wait_for_url(re.compile(rf"/patients/{pid}$"))
    after = _api(live_tenant, "technician", f"/api/v1/patients/{pid}")
    assert after["payer"] == "Aetna" and after["version"] == before["version"] + 1
    unchanged = ("given_name", "family_name", "date_of_birth", "sex", "primary_diagnosis", "phone", "email")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    tech.goto(f"/patients/{pid}/edit")  # the old value is kept, shown with the reason
    history = tech.locator("#amendments").inner_text()
    assert f"Payer: {before['payer'] or '—'} → Aetna" in history
    assert "Patient changed insurer at open enrolment." in history


def test_the_course_order_shows_the_safety_table_verdict_while_choosing(browser: Any, live: Live,
                                                                        live_tenant: Tenant) -> None:
    clinic = ready_clinic(live_tenant)
    pid = clinic.patient()
    psych = login(browser, live, live_tenant, "psychiatrist", DESKTOP)
    psych.goto(f"/patients/{pid}/course")
    check = psych.locator("#safety-check")
    psych.wait_for_selector("#safety-check.ok")
    assert "Within the safety table" in check.inner_text()
    psych.fill('#course-order input[name="intensity_pct_mt"]', "150")
    psych.wait_for_selector("#safety-check.error")
    assert "Outside the safety table" in check.inner_text()
    shot(psych, "history-4-order-safety-check")


def test_row_and_course_amendments_send_only_what_changed_with_the_reason(browser: Any, live: Live,
                                                                          live_tenant: Tenant) -> None:
    clinic = ready_clinic(live_tenant)
    pid = clinic.patient()
    cid = int(clinic.course(pid)["id"])
    trial = clinic.tech.post(f"/api/v1/patients/{pid}/medication-trials",
                             json={"drug": "escitalopram", "daily_dose": 20, "start_date": "2026-06-01",
                                   "stop_date": "2026-08-31", "outcome": "no_response"}).json()
    psych = login(browser, live, live_tenant, "psychiatrist", TABLET)
    psych.goto(f"/patients/{pid}/history")
    row = psych.locator(f"#trial-{trial['id']}")
    row.locator("summary").click()
    amend = row.locator("form")
    amend.locator('input[name="stop_date"]').fill("2026-05-01")  # before the start: refused, nothing changes
    amend.locator('textarea[name="reason"]').fill("Stop date mistyped on entry.")
    amend.locator("button[type=submit]").click()
    note = amend.locator(".field-error")
    note.wait_for()
    assert amend.locator('input[name="stop_date"]').get_attribute("aria-invalid") == "true"
    assert _api(live_tenant, "psychiatrist", f"/api/v1/patients/{pid}/medication-trials")[0]["version"] == 1
    amend.locator('input[name="stop_date"]').fill("2026-08-31")
    amend.locator('select[name="outcome"]').select_option("partial_response")
    amend.locator("button[type=submit]").click()
    psych.wait_for_selector(f"#trial-{trial['id']} >> text=Partial response")
    stored = _api(live_tenant, "psychiatrist", f"/api/v1/patients/{pid}/medication-trials")[0]
    assert (stored["outcome"], stored["version"], stored["daily_dose"], stored["stop_date"]) == (
        "partial_response", 2, 20, "2026-08-31")

    before = _api(live_tenant, "psychiatrist", f"/api/v1/courses/{cid}")
    psych.goto(f"/courses/{cid}")
    psych.click("#amend-course")
    psych.wait_for_url(f"**/courses/{cid}/edit")
    psych.fill('#course-edit input[name="target"]', "left DLPFC (F3, Beam)")
    psych.fill('#course-edit textarea[name="reason"]', "Target site confirmed with the Beam F3 method.")
    shot(psych, "history-5-course-amend")
    psych.click("#course-edit button[type=submit]")
    psych.wait_for_url(re.compile(rf"/courses/{cid}$"))
    after = _api(live_tenant, "psychiatrist", f"/api/v1/courses/{cid}")
    assert after["target"] == "left DLPFC (F3, Beam)"
    for same in ("intensity_pct_mt", "placement_method", "start_date", "window_start", "phases"):
        assert after[same] == before[same], same
