"""In Chromium: each role signs in and sees its pages; the psychiatrist signs a review beside the chart."""

from __future__ import annotations

from typing import Any

from tests.builders.clinic import ready_clinic
from tests.builders.treatable import treatable, with_history
from tests.conftest import Tenant
from tests.service.test_course_extension import after_session, medicare_course
from tests.web.conftest import TABLET, Live, login, shot


def test_each_role_signs_in_and_sees_its_pages(browser: Any, live: Live, live_tenant: Tenant) -> None:
    page = browser.new_page(base_url=live.base)
    page.goto("/login")
    shot(page, "login")
    page.close()
    expected = {"technician": ["Chairs", "Patients"], "psychiatrist": ["Chairs", "Patients", "Review queue"],
                "admin": ["Chairs"]}
    for role, links in expected.items():
        page = login(browser, live, live_tenant, role)
        assert page.url.endswith("/"), page.url
        nav = page.locator("header nav").inner_text()
        assert all(link in nav for link in links), nav
        assert ("Review queue" in nav) == (role == "psychiatrist")
        shot(page, f"home-{role}")
        page.context.close()


def test_psychiatrist_reads_the_chart_writes_and_signs_a_review(browser: Any, live: Live,
                                                                live_tenant: Tenant) -> None:
    world = with_history(treatable(live_tenant))
    page = login(browser, live, live_tenant, "psychiatrist")
    page.goto(f"/courses/{world.course_id}")
    chart = page.locator('.trajectory[data-instrument="PHQ-9"] svg.chart')
    assert chart.count() == 1
    assert "remission < 5" in (chart.text_content() or "") and "response" in (chart.text_content() or "")
    assert page.locator("#sessions tr.deviation").count() == 1  # the session short of pulses
    page.fill("#write-review input[name=week]", "3")
    page.fill("#write-review textarea[name=note]", "Week 3: PHQ-9 down from 18 to 3; tolerating well.")
    page.click("#write-review button[type=submit]")
    page.wait_for_selector(".review form.sign-form")
    # The first signing since sign-in takes the username too (21 CFR 11.200(a)).
    page.fill(".review form.sign-form input[name=username]", live_tenant.usernames["psychiatrist"])
    page.fill(".review form.sign-form input[name=password]", "not my password")
    page.click(".review form.sign-form button[type=submit]")
    page.wait_for_selector(".review form.sign-form .result.error")
    assert "password" in page.locator(".review form.sign-form .result").inner_text()
    page.fill(".review form.sign-form input[name=password]", "correct horse battery")
    page.click(".review form.sign-form button[type=submit]")
    page.wait_for_selector(".review .sig.valid")
    sig = page.locator(".review .sig.valid").inner_text()
    assert "reviewed" in sig and live_tenant.name.split()[-1] in sig and "UTC" in sig
    shot(page, "course-dashboard")
    # a same-day PHQ-9 with item 9 above 0 raises a suicide-risk alert at the top of the queue
    world.tech.post(f"/api/v1/patients/{world.patient_id}/assessments", json={
        "instrument": "PHQ-9", "course_id": world.course_id, "items": [1, 1, 1, 1, 1, 1, 1, 1, 1],
        "administered_at": "2026-11-23T13:30:00+00:00"})
    for url, name in ((f"/patients/{world.patient_id}", "patient"), ("/patients", "patient-list"),
                      ("/review", "review-queue"), ("/outcomes", "outcomes"),
                      (f"/courses/{world.course_id}/packet", "prior-auth-packet"),
                      (f"/courses/{world.course_id}/summary", "end-of-course-summary")):
        page.goto(url)
        shot(page, name)
        if name == "review-queue":
            assert "Jane Doe" in page.locator("#q-alerts").inner_text()
    page.context.close()


def test_chair_day_on_a_tablet(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto("/chairs")
    assert page.locator(f'a[href="/chair/bookings/{world.booking_id}"]').count() == 1
    shot(page, "chair-day")
    page.context.close()


def test_psychiatrist_extends_a_medicare_course_from_its_page(browser: Any, live: Live, live_tenant: Tenant) -> None:
    clinic = ready_clinic(live_tenant)
    course = medicare_course(clinic)
    after_session(live_tenant, live.app.state.clock, course, 20, baseline=20, now_total=14)
    page = login(browser, live, live_tenant, "psychiatrist")
    page.goto(f"/courses/{course['id']}")
    card = page.locator("#extension")
    assert "30.0% improvement, taken after session 20" in card.inner_text()
    assert "The extension applies" in card.inner_text()
    page.click("#extend-course button[type=submit]")
    page.wait_for_selector("#extension .reasons")  # reloaded: now it says the course is already extended
    assert "already extended" in page.locator("#extension").inner_text()
    shot(page, "course-extended")
    tech = live_tenant.fresh_client("technician")
    booked = tech.get(f"/api/v1/bookings?course_id={course['id']}&status=booked").json()
    assert sorted(b["sequence"] for b in booked if b["phase_name"].startswith("extension")) == list(range(21, 37))
