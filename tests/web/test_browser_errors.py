"""Refusals and errors on pages: a page in the layout, with navigation and a way back, in plain words; form
errors next to their field; the API keeps its JSON. And codes on pages read as words."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from service.core.errors import Conflict
from tests.builders.treatable import treatable
from tests.conftest import Tenant
from tests.web.conftest import TABLET, Live, login, shot


def _boom() -> None:
    raise RuntimeError("a fault no page handles")


def _refused() -> None:
    raise Conflict("course 7 is completed; it cannot be activated again")


def _failing_pages(app: FastAPI) -> None:
    """Two pages of the running app that fail the way a bug and a refused state change would."""
    app.add_api_route("/test-only/boom", _boom, include_in_schema=False)
    app.add_api_route("/test-only/refused", _refused, include_in_schema=False)


def _assert_error_page(page: Any, status: int, heading: str) -> None:
    assert page.locator("#error-page").get_attribute("data-status") == str(status)
    assert heading in page.locator("#error-page h1").inner_text()
    assert page.locator("header nav a[href='/chairs']").count() == 1, "the error page lost the navigation"
    assert page.locator("#error-page a", has_text="Go back").count() == 1
    assert "{" not in page.locator("main").inner_text(), "raw JSON on a page"


@pytest.mark.parametrize(("path", "status", "heading"), [
    ("/review", 403, "You can't open this"),
    ("/courses/999999", 404, "Not found"),
    ("/no-such-page", 404, "Not found"),
    ("/courses/not-a-number", 422, "Some details need correcting"),
    ("/test-only/refused", 409, "This can't be done right now"),
    ("/test-only/boom", 500, "Something went wrong"),
])
def test_refusals_and_errors_are_pages(browser: Any, live: Live, live_tenant: Tenant, path: str, status: int,
                                       heading: str) -> None:
    _failing_pages(live.app)
    page = login(browser, live, live_tenant, "technician", TABLET)
    answer = page.goto(path)
    assert answer is not None and answer.status == status
    _assert_error_page(page, status, heading)
    shot(page, f"error-{status}-{path.strip('/').replace('/', '-')}")
    page.context.close()


def test_the_api_keeps_json_refusals(browser: Any, live: Live, live_tenant: Tenant) -> None:
    page = login(browser, live, live_tenant, "technician", TABLET)
    answer = page.request.get("/api/v1/courses/999999")
    assert answer.status == 404 and answer.json()["error"]["code"] == "not_found"
    page.context.close()


def test_a_form_error_is_shown_next_to_its_field_in_plain_words(browser: Any, live: Live,
                                                                live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto(f"/chair/bookings/{world.booking_id}")
    page.click("#ae summary")
    page.select_option('#ae form select[name="term"]', "other")  # "other" needs a description
    page.click('#ae form button[type="submit"]')
    note = page.locator('#ae form label:has(textarea) + .field-error')
    note.first.wait_for()
    text = note.first.inner_text()
    assert text[0].isupper() and "Value error" not in text and "body:" not in text, text
    assert "Nothing was saved" in page.locator("#ae form .result.error").inner_text()
    shot(page, "form-error-next-to-field")
    page.context.close()


def test_codes_on_pages_read_as_words(browser: Any, live: Live, live_tenant: Tenant) -> None:
    world = treatable(live_tenant)
    page = login(browser, live, live_tenant, "technician", TABLET)
    page.goto("/chairs")
    day = page.locator("main").inner_text()
    assert "10 Hz standard, 3000 pulses, 26 s ITI" in day and "hf10_3000_iti26" not in day, day
    page.goto(f"/chair/bookings/{world.booking_id}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click('.quick-ae button:has-text("Scalp")')
    page.wait_for_selector("#ae-result.ok")
    page.goto(f"/patients/{world.patient_id}")
    text = page.locator("main").inner_text()
    assert "application_site_pain" not in text and "Scalp / application-site pain" in text, text
    page.context.close()
