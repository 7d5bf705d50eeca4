"""From a referral to a treatable booking in the browser: intake, the course order, then each blocker's link
opens the form that clears it, for the role that may clear it (the technician screens, determines the MT and
takes the scale; the psychiatrist clears, activates and files the authorization); the course is planned and
checked in."""

from __future__ import annotations

import re
from typing import Any

from tests.builders.clinic import ready_clinic
from tests.builders.treatable import treatable
from tests.conftest import Tenant
from tests.web.conftest import DESKTOP, TABLET, Live, login, shot

PHQ9 = [2, 2, 2, 1, 2, 1, 1, 1, 0]


def _blockers(page: Any) -> list[str]:
    return [li.get_attribute("data-code") or "" for li in page.locator("#course-blockers li").all()]


def _follow(page: Any, code: str) -> None:
    page.click(f'#course-blockers li[data-code="{code}"] a.fix')
    page.wait_for_load_state()


def _submit(page: Any, form: str, lands_on: str) -> None:
    page.click(f"{form} button[type=submit]")
    page.wait_for_url(f"**{lands_on}*")


def test_a_blocked_course_is_cleared_through_its_links_and_checked_in(browser: Any, live: Live,
                                                                      live_tenant: Tenant) -> None:
    ready_clinic(live_tenant)  # hours, shifts and a chair: the admin's setup, which has no pages yet
    tech = login(browser, live, live_tenant, "technician", TABLET)
    tech.goto("/patients")
    tech.click("#new-patient")
    for name, value in (("mrn", "REF-0042"), ("given_name", "Nora"), ("family_name", "Newman"),
                        ("date_of_birth", "1982-09-30"), ("primary_diagnosis", "F33.2"), ("payer", "Medicare"),
                        ("referring_clinician", "Dr. Rita Referrer")):
        tech.fill(f'#intake input[name="{name}"]', value)
    tech.select_option('#intake select[name="sex"]', "female")
    shot(tech, "blockers-0-intake")
    tech.click("#intake button[type=submit]")
    tech.wait_for_url(re.compile(r"/patients/\d+$"))
    pid = int(tech.url.rstrip("/").split("/")[-1])
    assert "The psychiatrist orders a course." in tech.locator("main").inner_text()

    psych = login(browser, live, live_tenant, "psychiatrist", DESKTOP)
    psych.goto(f"/patients/{pid}")
    psych.click("#order-course")
    psych.check('#course-order input[name="protocol_id"][value="hf10_3000_iti26"]')
    # A new referral has no medication trials on file: not eligible, so the order needs the documented reason.
    assert "not eligible" in psych.locator("#eligibility").inner_text()
    psych.select_option('#course-order select[name="eligibility_exception.basis"]', "clinical_judgement")
    psych.fill('#course-order textarea[name="eligibility_exception.reason"]',
               "Four failed trials documented by the referrer; records requested.")
    shot(psych, "blockers-0-course-order")
    psych.click("#course-order button[type=submit]")
    psych.wait_for_url(re.compile(r"/courses/\d+$"))
    cid = int(psych.url.split("#")[0].rstrip("/").split("/")[-1])

    tech.goto(f"/courses/{cid}")
    assert {"screening_missing", "course_not_active", "authorization_missing"} <= set(_blockers(tech))
    activation = tech.locator('#course-blockers li[data-code="course_not_active"]')
    assert "the psychiatrist must do this" in activation.inner_text()
    shot(tech, "blockers-1-course-blocked")

    _follow(tech, "screening_missing")
    items = tech.locator("#screening fieldset.question").all()
    # "unsure" about an implant within 30 cm (absolute), "yes" to headaches (relative)
    answers = {0: "unsure", 19: "yes"}
    for n, item in enumerate(items):
        item.locator(f'input[value="{answers.get(n, "no")}"]').check()
    shot(tech, "blockers-2-screening")
    _submit(tech, "#screening", f"/patients/{pid}")

    tech.goto(f"/courses/{cid}")
    assert "screening_absolute_contraindication" in _blockers(tech) and "screening_missing" not in _blockers(tech)
    _follow(tech, "screening_absolute_contraindication")
    tech.check('#checks form.check input[name="answer"][value="no"]')
    tech.fill('#checks form.check textarea[name="how_checked"]', "Implant card and the 2024 chest X-ray report: none.")
    tech.click("#checks form.check button[type=submit]")
    tech.wait_for_selector("#checks .ok-text")
    shot(tech, "blockers-2-checked-answer")
    tech.goto(f"/courses/{cid}")
    assert "screening_uncleared" in _blockers(tech) and "screening_absolute_contraindication" not in _blockers(tech)
    tech.click(f'#course-blockers a[href="/patients/{pid}/motor-threshold?course_id={cid}"]')
    tech.fill('#motor-threshold input[name="value_pct_mso"]', "55")
    shot(tech, "blockers-3-motor-threshold")
    _submit(tech, "#motor-threshold", f"/patients/{pid}")

    tech.goto(f"/patients/{pid}/assessment?course_id={cid}")
    for n, value in enumerate(PHQ9):
        tech.locator('#assessment select[name="items"]').nth(n).select_option(str(value))
    shot(tech, "blockers-4-phq9")
    _submit(tech, "#assessment", f"/courses/{cid}")
    assert "PHQ-9" in tech.locator("main").inner_text()

    psych.goto(f"/courses/{cid}")
    _follow(psych, "screening_uncleared")
    psych.fill("#findings form.clearance textarea[name=reason]", "Tension headaches only; none since May.")
    psych.click("#findings form.clearance button[type=submit]")
    psych.wait_for_selector("#findings .ok-text")
    shot(psych, "blockers-5-clearance")

    psych.goto(f"/courses/{cid}")
    _follow(psych, "course_not_active")
    psych.fill("#course-status textarea[name=reason]", "Screened, consented, MT determined.")
    _submit(psych, "#course-status", f"/courses/{cid}")

    _follow(psych, "authorization_missing")
    psych.fill("#authorization input[name=number]", "MCR-2026-0042")
    psych.fill("#authorization input[name=end_date]", "2027-03-31")
    shot(psych, "blockers-6-authorization")
    _submit(psych, "#authorization", f"/courses/{cid}")
    assert _blockers(psych) == [], _blockers(psych)
    assert "Nothing blocks treatment today." in psych.locator("#course-blockers").inner_text()

    psych.click(f'#course-blockers a[href="/courses/{cid}/plan"]')
    _submit(psych, "#plan", f"/courses/{cid}")
    counts = psych.locator("#counts").inner_text()
    assert "0 booked" not in counts, counts
    shot(psych, "blockers-7-planned")
    psych.context.close()

    tech.goto("/chairs")
    tech.locator(".chair a[href^='/chair/bookings/']").first.click()
    assert "Nothing blocks treatment today" in tech.locator("main").inner_text(), tech.locator(".blockers").inner_text()
    tech.click("#check-in")
    tech.wait_for_selector("#checklist")
    shot(tech, "blockers-8-checked-in")
    tech.context.close()


def test_a_missed_session_is_recorded_and_the_course_re_planned(browser: Any, live: Live,
                                                                 live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    page.click("#booking-change summary")
    page.select_option('#booking-status select[name="status"]', "no_show")
    page.fill('#booking-status input[name="reason"]', "patient unwell, phoned at 08:40")
    page.click("#booking-status button[type=submit]")
    page.wait_for_selector("text=booking missed (no show)")
    shot(page, "booking-missed")
    page.goto(f"/courses/{world.course_id}")
    assert "1 missed" in page.locator("#counts").inner_text()
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/courses/{world.course_id}/replan")) as answer:
        page.click("#replan button[type=submit]")
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_selector("#counts")
    shot(page, "course-re-planned")
    page.context.close()
