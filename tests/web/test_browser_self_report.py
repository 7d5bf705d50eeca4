"""In Chromium at a tablet: the technician hands the tablet to the patient for a PHQ-9. Patient mode shows the
questionnaire alone (no navigation, no links, nothing about the patient), the technician is signed out while the
patient has it, and the answers are recorded once the technician signs in again, back on the booking page."""

from __future__ import annotations

from typing import Any

from tests.builders.treatable import treatable
from tests.conftest import PASSWORD, Tenant
from tests.web.conftest import TABLET, Live, login, shot

# Item 9 answered 1: the suicide-risk item raises an alert the booking page shows at once.
ANSWERS = [2, 2, 1, 1, 0, 1, 0, 0, 1]
ANSWER_WORDS = ("Not at all", "Several days", "More than half the days", "Nearly every day")


def _hand_over(page: Any, booking_id: int) -> None:
    page.goto(f"/chair/bookings/{booking_id}")
    page.click('#hand-to-patient button[value="PHQ-9"]')
    page.wait_for_selector("#self-report")


def test_patient_mode_shows_only_the_questionnaire_and_records_it_after_the_technician_signs_in(
        browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    patient = world.tech.get(f"/api/v1/patients/{world.patient_id}").json()
    page = login(browser, live, live_tenant, "technician", TABLET)
    _hand_over(page, world.booking_id)

    text = page.locator("body").inner_text()
    assert page.locator("a").count() == 0 and page.locator("nav, header").count() == 0
    for private in (patient["given_name"], patient["family_name"], patient["mrn"]):
        assert private not in text, private
    assert page.locator(".sr-item:visible").count() == 1  # one question at a time
    question = page.locator(".sr-item:visible .sr-question")
    assert question.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 28
    shot(page, "patient-mode-question")

    # The technician is signed out while the patient holds the tablet: their page asks for a sign-in.
    assert page.context.request.get(f"/chair/bookings/{world.booking_id}", max_redirects=0).status == 303

    for n, value in enumerate(ANSWERS):
        page.locator(".sr-item:visible").get_by_role("radio", name=ANSWER_WORDS[value], exact=True).click()
        assert page.locator(f'.sr-item[data-index="{n}"]').is_hidden()
    page.locator(".sr-item:visible .sr-skip").click()  # item 10 (how difficult) is optional
    page.wait_for_selector("#sr-done:visible")
    assert world.tech.get(f"/api/v1/patients/{world.patient_id}/assessments").json() == []  # nothing sent yet

    page.fill("#sr-sign-in input[name=password]", "wrong password")
    page.click("#sr-sign-in button[type=submit]")
    page.wait_for_selector("#sr-result:visible")
    assert "Wrong username or password" in page.locator("#sr-result").inner_text()
    assert world.tech.get(f"/api/v1/patients/{world.patient_id}/assessments").json() == []

    page.fill("#sr-sign-in input[name=password]", PASSWORD)
    page.click("#sr-sign-in button[type=submit]")
    page.wait_for_url(f"**/chair/bookings/{world.booking_id}?self_report=*")
    recorded = world.tech.get(f"/api/v1/patients/{world.patient_id}/assessments").json()
    assert [(a["instrument"], a["items"][:9], a["total"]) for a in recorded] == [("PHQ-9", ANSWERS, 8)]
    assert recorded[0]["administered_at"].startswith(live.app.state.clock.now().date().isoformat())
    result = page.locator('#self-reports [data-instrument="PHQ-9"]')
    assert result.locator("[data-total]").inner_text() == "8"
    assert "Mild" in result.inner_text()
    assert result.locator("[data-alert]").count() == 1
    assert page.locator("header nav").count() == 1  # the technician's page again
    shot(page, "patient-mode-recorded")
    page.context.close()


def test_back_and_reload_in_patient_mode_never_show_the_technician_page(browser: Any, live: Live,
                                                                        live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    patient = world.tech.get(f"/api/v1/patients/{world.patient_id}").json()
    page = login(browser, live, live_tenant, "technician", TABLET)
    _hand_over(page, world.booking_id)
    page.locator(".sr-item:visible .sr-answer").first.click()

    page.go_back()
    page.wait_for_timeout(300)
    page.go_back()
    page.wait_for_load_state()
    assert patient["family_name"] not in page.locator("body").inner_text()
    assert page.locator("#check-in").count() == 0

    page.reload()
    assert patient["family_name"] not in page.locator("body").inner_text()
    page.goto(f"/chair/bookings/{world.booking_id}")
    assert "/login" in page.url and patient["family_name"] not in page.content()
    assert page.context.request.get(f"/api/v1/patients/{world.patient_id}").status == 401
    page.context.close()
