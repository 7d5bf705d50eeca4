"""In Chromium: the psychiatrist selects three records in the review queue and signs them with one entry of the
username and password; later in the same sign-in the password alone signs."""

from __future__ import annotations

from typing import Any

from tests.builders.treatable import treatable
from tests.conftest import PASSWORD, Tenant
from tests.web.conftest import TABLET, Live, login, shot


def _reviews(world: Any, n: int, first_week: int = 1) -> list[int]:
    out = []
    for week in range(first_week, first_week + n):
        r = world.psych.post(f"/api/v1/courses/{world.course_id}/reviews",
                             json={"kind": "weekly", "week": week, "note": f"Week {week}: tolerating well."})
        assert r.status_code == 201, r.text
        out.append(int(r.json()["id"]))
    return out


def _signatures(world: Any, review_id: int) -> list[dict[str, Any]]:
    r = world.psych.get("/api/v1/signatures", params={"subject": "course_review", "subject_id": review_id})
    assert r.status_code == 200, r.text
    return list(r.json())


def test_three_records_signed_in_one_batch_each_with_its_own_signature(browser: Any, live: Live,
                                                                       live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    ids = _reviews(world, 3)
    page = login(browser, live, live_tenant, "psychiatrist", viewport=TABLET)
    page.goto("/review")
    section = page.locator("#q-unsigned")
    for i in ids:
        assert section.locator(f'tr[data-subject="course_review"][data-subject-id="{i}"]').count() == 1
        page.check(f"#pick-course_review-{i}")
    page.select_option(f'tr[data-subject-id="{ids[1]}"] select.batch-meaning', "approved")
    assert page.locator("#batch-count").inner_text() == "3"
    # First signing of this sign-in: the username is asked for, and a wrong password signs nothing.
    page.fill("#batch-sign input[name=username]", live_tenant.usernames["psychiatrist"])
    page.fill("#batch-sign input[name=password]", "not my password")
    page.click("#batch-sign button[type=submit]")
    page.wait_for_selector("#batch-sign .result.error")
    assert "Nothing was signed" in page.locator("#batch-sign .result").inner_text()
    shot(page, "review-queue-batch-sign")
    assert all(_signatures(world, i) == [] for i in ids)
    page.fill("#batch-sign input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#batch-sign button[type=submit]")
    for i, meaning in zip(ids, ["reviewed", "approved", "reviewed"], strict=True):
        sigs = _signatures(world, i)
        assert [(s["meaning"], s["subject_version"], s["verified"]) for s in sigs] == [(meaning, 1, "valid")]
        assert page.locator(f'#q-unsigned tr[data-subject-id="{i}"]').count() == 0
    assert len({s["record_sha256"] for i in ids for s in _signatures(world, i)}) == 3

    # Later in the same sign-in session: the password alone signs.
    (fourth,) = _reviews(world, 1, first_week=4)
    page.reload()
    assert page.locator("#batch-sign input[name=username]").count() == 0
    page.check(f"#pick-course_review-{fourth}")
    page.fill("#batch-sign input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#batch-sign button[type=submit]")
    assert [s["meaning"] for s in _signatures(world, fourth)] == ["reviewed"]

    # A wrong password ends the signing session: the username is asked for again, on the same page.
    (fifth,) = _reviews(world, 1, first_week=5)
    page.reload()
    page.check(f"#pick-course_review-{fifth}")
    page.fill("#batch-sign input[name=password]", "not my password")
    page.click("#batch-sign button[type=submit]")
    page.wait_for_selector("#batch-sign input[name=username]")
    assert _signatures(world, fifth) == []
    page.fill("#batch-sign input[name=username]", live_tenant.usernames["psychiatrist"])
    page.fill("#batch-sign input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#batch-sign button[type=submit]")
    assert [s["meaning"] for s in _signatures(world, fifth)] == ["reviewed"]
    page.context.close()

