"""Server-rendered pages: each role sees its pages, never another clinic's data; pages act through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.clinic import ready_clinic
from tests.builders.treatable import check_in, treatable
from tests.conftest import PASSWORD, T0, Tenant


def signed_in(tenant: Tenant, role: str) -> TestClient:
    client = tenant.anonymous()
    r = client.post("/login", data={"username": tenant.usernames[role], "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_chair_day_shows_each_chair_with_its_bookings(tenant: Tenant) -> None:
    world = treatable(tenant)
    page = signed_in(tenant, "technician").get("/chairs")
    assert page.status_code == 200
    assert "Chair A" in page.text and f"/chair/bookings/{world.booking_id}" in page.text
    assert "session 1 of 36" in page.text and "no agent heartbeat yet" in page.text


def test_booking_page_walks_check_in_checklist_and_dose(tenant: Tenant) -> None:
    world = treatable(tenant)
    tech = signed_in(tenant, "technician")
    before = tech.get(f"/chair/bookings/{world.booking_id}")
    assert 'id="check-in"' in before.text and f"/api/v1/bookings/{world.booking_id}/check-in" in before.text
    check_in(world)
    after = tech.get(f"/chair/bookings/{world.booking_id}")
    assert "Pre-session checklist" in after.text and "60% MSO" in after.text and "CPT 90867" in after.text
    assert "Nothing blocks this session." in after.text


def test_blocking_reasons_are_shown_in_words(tenant: Tenant) -> None:
    world = treatable(tenant)
    session = check_in(world)
    # hearing protection missing blocks the start
    r = world.tech.put(f"/api/v1/sessions/{session['id']}/checklist", headers={"X-Requested-With": "t"}, json={
        "answers": {"hearing_protection": "no", "sleep_loss": "no", "alcohol_or_drugs": "no", "caffeine": "no",
                    "medication_change": "no", "new_symptoms": "no", "seizure_or_fainting": "no",
                    "coil_position_confirmed": "yes"}})
    assert r.status_code == 200, r.text
    page = signed_in(tenant, "technician").get(f"/chair/bookings/{world.booking_id}")
    assert "Start is blocked" in page.text and "hearing" in page.text.lower()
    assert 'id="start"' in page.text and "disabled" in page.text.split('id="start"')[1].split(">")[0]


def test_pages_never_show_another_clinics_booking(tenant: Tenant, other_tenant: Tenant) -> None:
    world = treatable(tenant)
    other = signed_in(other_tenant, "technician")
    assert other.get(f"/chair/bookings/{world.booking_id}").status_code == 404
    chairs = other.get("/chairs")
    assert chairs.status_code == 200 and "Jane" not in chairs.text and "Chair A" not in chairs.text


def test_pages_need_a_session_and_the_right_role(tenant: Tenant) -> None:
    world = treatable(tenant)
    anon = tenant.anonymous().get("/chairs", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
    admin = signed_in(tenant, "admin")
    assert admin.get("/chairs").status_code == 200
    assert admin.get(f"/chair/bookings/{world.booking_id}").status_code == 403


def _phq9(world: Any, items: list[int], days: int) -> None:
    from tests.builders.clinic import ok

    ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/assessments", json={
        "instrument": "PHQ-9", "course_id": world.course_id, "items": items,
        "administered_at": (T0 + timedelta(days=days)).isoformat()}), 201)


def test_review_queue_puts_suicide_alerts_first_and_lists_reviews_due(tenant: Tenant) -> None:
    world = treatable(tenant)
    _phq9(world, [2, 2, 2, 2, 2, 2, 2, 2, 1], -1)  # item 9 above 0: a same-day suicide-risk alert
    page = signed_in(tenant, "psychiatrist").get("/review")
    assert page.status_code == 200
    text = page.text
    order = [text.index(f'id="q-{s}"') for s in ("alerts", "serious", "clearances", "overrides", "gaps", "auth",
                                                   "reviews")]
    assert order == sorted(order)
    alerts = text.split('id="q-alerts"')[1].split("</section>")[0]
    assert "Jane Doe" in alerts and "/api/v1/alerts/" in alerts
    reviews = text.split('id="q-reviews"')[1].split("</section>")[0]
    assert "weekly review" in reviews and f"/courses/{world.course_id}" in reviews
    assert signed_in(tenant, "technician").get("/review").status_code == 403


def test_a_signed_weekly_review_takes_the_course_off_the_queue(tenant: Tenant) -> None:
    world = treatable(tenant)
    review = world.psych.post(f"/api/v1/courses/{world.course_id}/reviews",
                              json={"kind": "weekly", "week": 1, "note": "Week 1 fine."}).json()
    assert world.psych.post("/api/v1/signatures", headers={"X-Requested-With": "t"}, json={
        "subject": "course_review", "subject_id": review["id"], "meaning": "reviewed",
        "username": tenant.usernames["psychiatrist"], "password": PASSWORD}).status_code == 201
    reviews = signed_in(tenant, "psychiatrist").get("/review").text.split('id="q-reviews"')[1].split("</section>")[0]
    assert f"/courses/{world.course_id}" not in reviews


def test_outcomes_count_completers_and_intent_to_treat(tenant: Tenant, other_tenant: Tenant) -> None:
    world = treatable(tenant)
    _phq9(world, [3, 3, 2, 2, 2, 2, 2, 2, 0], -20)
    _phq9(world, [0, 1, 1, 0, 0, 1, 0, 0, 0], -1)
    r = world.psych.post(f"/api/v1/courses/{world.course_id}/status",
                         json={"status": "completed", "reason": "course delivered"})
    assert r.status_code == 200, r.text
    page = signed_in(tenant, "admin").get("/outcomes")
    row = page.text.split('id="outcomes"')[1].split("</table>")[0]
    assert "PHQ-9" in row and "100.0%" in row and "Completers:" in page.text and "58.0%" in page.text
    other = signed_in(other_tenant, "admin").get("/outcomes").text
    assert "No ended course with a baseline score yet." in other


def test_course_page_shows_the_extension_rule_and_why_it_does_not_apply_yet(tenant: Tenant) -> None:
    clinic = ready_clinic(tenant)
    course = clinic.course(template_id="medicare-20")
    page = signed_in(tenant, "psychiatrist").get(f"/courses/{course['id']}")
    assert page.status_code == 200
    card = page.text.split('id="extension"')[1].split("</section>")[0]
    assert "session 18–22" in card and "at least\n    25% better" in card
    assert "no PHQ-9 with a course baseline is recorded for this course" in card and "extend-course" not in card
    standard = clinic.course(clinic.patient())
    assert 'id="extension"' not in signed_in(tenant, "psychiatrist").get(f"/courses/{standard['id']}").text
