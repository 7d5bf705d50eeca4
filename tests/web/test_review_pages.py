"""Review pages: flags resolvable from the queue and the flags page, records awaiting a signature listed with the
username asked only at the first signing of the sign-in session."""

from __future__ import annotations

import re

from service.core.db import session_scope
from service.flags import service as flags
from service.models.flags import FlagKind
from tests.builders.records import WRITE
from tests.builders.treatable import treatable
from tests.conftest import PASSWORD, T0, Tenant
from tests.web.test_pages import signed_in


def _flag(tenant: Tenant, course_id: int, patient_id: int, kind: FlagKind, key: str) -> int:
    with session_scope(tenant.app.state.engine) as s:
        flag = flags.raise_flag(s, clinic_id=tenant.clinic_id, key=f"{key}-{tenant.clinic_id}", kind=kind,
                                message="Found by the nightly check.", now=T0, patient_id=patient_id,
                                course_id=course_id)
        assert flag is not None
        return flag.id or 0


def test_open_flags_carry_a_resolve_form_in_the_queue_and_on_the_flags_page(tenant: Tenant) -> None:
    world = treatable(tenant)
    gap = _flag(tenant, world.course_id, world.patient_id, FlagKind.gap, "gap")
    other = _flag(tenant, world.course_id, world.patient_id, FlagKind.phq9_due, "phq9")
    queue = signed_in(tenant, "psychiatrist").get("/review").text
    for fid, section in ((gap, "q-gaps"), (other, "q-other")):
        part = queue.split(f'id="{section}"')[1].split("</section>")[0]
        assert f'data-api="/api/v1/review-flags/{fid}/resolve"' in part
    tech = signed_in(tenant, "technician")
    page = tech.get("/review-flags")
    assert page.status_code == 200 and "PHQ-9 due" in page.text and "phq9_due" not in page.text
    assert f'data-api="/api/v1/review-flags/{gap}/resolve"' in page.text
    done = tech.post(f"/api/v1/review-flags/{gap}/resolve", headers=WRITE,
                     json={"resolution": "Called the patient; rebooked for Thursday."})
    assert done.status_code == 200, done.text
    assert f"/api/v1/review-flags/{gap}/resolve" not in tech.get("/review-flags").text
    assert signed_in(tenant, "admin").get("/review-flags").status_code == 403


def test_the_queue_asks_for_the_username_only_until_the_first_signing(tenant: Tenant) -> None:
    world = treatable(tenant)
    review = world.psych.post(f"/api/v1/courses/{world.course_id}/reviews",
                              json={"kind": "weekly", "week": 1, "note": "Week 1 fine."}).json()
    psych = signed_in(tenant, "psychiatrist")
    section = psych.get("/review").text.split('id="q-unsigned"')[1].split("</section>")[0]
    assert f'data-subject="course_review" data-subject-id="{review["id"]}"' in section
    assert re.search(r'<input name="username" required', section)
    course = psych.get(f"/courses/{world.course_id}").text
    assert 'name="username"' in course.split('id="reviews"')[1]
    signed = psych.post("/api/v1/signatures/batch", headers=WRITE, json={
        "username": tenant.usernames["psychiatrist"], "password": PASSWORD,
        "items": [{"subject": "course_review", "subject_id": review["id"], "meaning": "reviewed"}]})
    assert signed.status_code == 201, signed.text
    second = world.psych.post(f"/api/v1/courses/{world.course_id}/reviews",
                              json={"kind": "weekly", "week": 2, "note": "Week 2 fine."}).json()
    section = psych.get("/review").text.split('id="q-unsigned"')[1].split("</section>")[0]
    assert f'data-subject-id="{review["id"]}"' not in section
    assert f'data-subject-id="{second["id"]}"' in section and 'name="username"' not in section
    assert 'name="username"' not in psych.get(f"/courses/{world.course_id}").text.split('id="reviews"')[1]


def test_an_amended_review_waits_for_a_signature_on_its_new_version(tenant: Tenant) -> None:
    world = treatable(tenant)
    review = world.psych.post(f"/api/v1/courses/{world.course_id}/reviews",
                              json={"kind": "weekly", "week": 1, "note": "Week 1 fine."}).json()
    assert world.psych.post("/api/v1/signatures", json={
        "subject": "course_review", "subject_id": review["id"], "meaning": "reviewed",
        "username": tenant.usernames["psychiatrist"], "password": PASSWORD}).status_code == 201
    psych = signed_in(tenant, "psychiatrist")
    assert f'data-subject-id="{review["id"]}"' not in psych.get("/review").text
    assert world.psych.patch(f"/api/v1/course-reviews/{review['id']}", json={
        "note": "Week 1 fine; mild headache.", "reason": "headache left out"}).status_code == 200
    section = psych.get("/review").text.split('id="q-unsigned"')[1].split("</section>")[0]
    assert f'data-subject-id="{review["id"]}"' in section and "Week 1 review (version 2)" in section
