"""Which page serves each API write route, or why no page does.

Every write route of the API (methods other than GET/HEAD) must appear in exactly one of PAGES, NO_PAGE or
NO_PAGE_YET; tests/web/test_every_write_has_a_page.py fails on any route missing here and on every entry of
NO_PAGE_YET, and for each entry of PAGES opens the page as its role in a seeded world and looks for the form or
button that app.js sends to the route.

A page's ``world`` names a builder in tests/builders/page_worlds.py; it seeds a clinic in the state in which the
page offers the action and returns the ids that fill the placeholders of both the page URL and the API path.
"""

from __future__ import annotations

from dataclasses import dataclass

Route = tuple[str, str]  # (METHOD, FastAPI path with its {placeholders})


@dataclass(frozen=True)
class Page:
    url: str  # the page, with {placeholders} filled from the world's ids
    role: str  # the role that uses the page for this action
    world: str  # the builder in tests/builders/page_worlds.py that seeds the state the action needs


PAGES: dict[Route, Page] = {
    ("POST", "/api/v1/patients"): Page("/patients/new", "technician", "clinic"),
    ("POST", "/api/v1/courses"): Page("/patients/{patient_id}/course", "psychiatrist", "draft_course"),
    ("POST", "/api/v1/patients/{patient_id}/screenings"):
        Page("/patients/{patient_id}/screening?course_id={course_id}", "technician", "draft_course"),
    ("POST", "/api/v1/screenings/{screening_id}/clearances"):
        Page("/patients/{patient_id}/screening/clearance?course_id={course_id}", "psychiatrist", "relative_finding"),
    ("POST", "/api/v1/screenings/{screening_id}/checks"):
        Page("/patients/{patient_id}/screening/checks?course_id={course_id}", "technician", "unsure_absolute"),
    ("POST", "/api/v1/patients/{patient_id}/motor-thresholds"):
        Page("/patients/{patient_id}/motor-threshold?course_id={course_id}", "technician", "draft_course"),
    ("POST", "/api/v1/patients/{patient_id}/assessments"):
        Page("/patients/{patient_id}/assessment?course_id={course_id}", "technician", "draft_course"),
    ("POST", "/api/v1/courses/{course_id}/status"): Page("/courses/{course_id}/status", "psychiatrist", "draft_course"),
    ("POST", "/api/v1/authorizations"): Page("/courses/{course_id}/authorization", "admin", "draft_course"),
    ("POST", "/api/v1/courses/{course_id}/plan"): Page("/courses/{course_id}/plan", "technician", "draft_course"),
    ("POST", "/api/v1/courses/{course_id}/replan"): Page("/courses/{course_id}", "technician", "booked"),
    ("POST", "/api/v1/courses/{course_id}/extension"): Page("/courses/{course_id}", "psychiatrist", "extension_due"),
    ("POST", "/api/v1/bookings/{booking_id}/check-in"):
        Page("/chair/bookings/{booking_id}", "technician", "booked"),
    ("POST", "/api/v1/bookings/{booking_id}/status"): Page("/chair/bookings/{booking_id}", "technician", "booked"),
    ("PUT", "/api/v1/sessions/{session_id}/checklist"):
        Page("/chair/bookings/{booking_id}", "technician", "checked_in"),
    ("POST", "/api/v1/sessions/{session_id}/start"): Page("/chair/bookings/{booking_id}", "technician", "ready"),
    ("POST", "/api/v1/sessions/{session_id}/stop"): Page("/chair/bookings/{booking_id}", "technician", "delivering"),
    ("POST", "/api/v1/sessions/{session_id}/resume"):
        Page("/chair/bookings/{booking_id}", "technician", "interrupted"),
    ("POST", "/api/v1/patients/{patient_id}/adverse-events"):
        Page("/chair/bookings/{booking_id}", "technician", "booked"),
    ("POST", "/api/v1/adverse-events/{event_id}/clearance"):
        Page("/courses/{course_id}", "psychiatrist", "serious_event"),
    ("POST", "/api/v1/alerts/{alert_id}/response"): Page("/review", "psychiatrist", "suicide_alert"),
    ("POST", "/api/v1/courses/{course_id}/reviews"): Page("/courses/{course_id}", "psychiatrist", "booked"),
    ("PATCH", "/api/v1/course-reviews/{review_id}"): Page("/courses/{course_id}", "psychiatrist", "review_written"),
    ("POST", "/api/v1/signatures"): Page("/courses/{course_id}", "psychiatrist", "review_written"),
    ("PATCH", "/api/v1/patients/{patient_id}"):
        Page("/patients/{patient_id}/edit", "technician", "draft_course"),
    ("POST", "/api/v1/patients/{patient_id}/medication-trials"):
        Page("/patients/{patient_id}/history", "technician", "draft_course"),
    ("PATCH", "/api/v1/medication-trials/{trial_id}"):
        Page("/patients/{patient_id}/history", "technician", "history_recorded"),
    ("POST", "/api/v1/patients/{patient_id}/psychotherapy-trials"):
        Page("/patients/{patient_id}/history", "technician", "draft_course"),
    ("PATCH", "/api/v1/psychotherapy-trials/{trial_id}"):
        Page("/patients/{patient_id}/history", "technician", "therapy_recorded"),
    ("POST", "/api/v1/patients/{patient_id}/medication-changes"):
        Page("/patients/{patient_id}/history", "technician", "draft_course"),
    ("PATCH", "/api/v1/medication-changes/{change_id}"):
        Page("/patients/{patient_id}/history", "technician", "history_recorded"),
    ("PUT", "/api/v1/patients/{patient_id}/eligibility-profile"):
        Page("/patients/{patient_id}/eligibility", "technician", "draft_course"),
    ("POST", "/api/v1/courses/{course_id}/eligibility-exception"):
        Page("/patients/{patient_id}/eligibility?course_id={course_id}", "psychiatrist", "eligibility_undocumented"),
    ("PATCH", "/api/v1/courses/{course_id}"):
        Page("/courses/{course_id}/edit", "psychiatrist", "draft_course"),
    ("PATCH", "/api/v1/adverse-events/{event_id}"):
        Page("/adverse-events/{event_id}", "technician", "serious_event"),
    ("POST", "/api/v1/reporting-tasks/{task_id}/completion"):
        Page("/adverse-events/{event_id}", "technician", "serious_event"),
    ("POST", "/api/v1/sessions/{session_id}/checklist/acknowledgements"):
        Page("/chair/bookings/{booking_id}", "technician", "needs_acknowledgement"),
    ("POST", "/api/v1/sessions/{session_id}/adverse-events"):
        Page("/chair/bookings/{booking_id}", "technician", "checked_in"),
    ("POST", "/api/v1/protocols/overrides"):
        Page("/chair/sessions/{session_id}/protocol-override", "psychiatrist", "dose_outside_table"),
    ("POST", "/api/v1/bookings"): Page("/courses/{course_id}/bookings", "technician", "booked"),
    ("PATCH", "/api/v1/authorizations/{authorization_id}"):
        Page("/authorizations/{authorization_id}/edit", "psychiatrist", "authorized"),
    ("PUT", "/api/v1/calendar"): Page("/admin/calendar", "admin", "administered"),
    ("POST", "/api/v1/calendar/closures"): Page("/admin/calendar", "admin", "administered"),
    ("POST", "/api/v1/calendar/closures/{closure_id}/withdraw"): Page("/admin/calendar", "admin", "administered"),
    ("PUT", "/api/v1/calendar/shifts/{user_id}"): Page("/admin/calendar", "admin", "administered"),
    ("POST", "/api/v1/calendar/days-off"): Page("/admin/calendar", "admin", "administered"),
    ("POST", "/api/v1/calendar/days-off/{day_off_id}/withdraw"): Page("/admin/calendar", "admin", "administered"),
    ("POST", "/api/v1/users"): Page("/admin/users", "admin", "administered"),
    ("PATCH", "/api/v1/users/{user_id}"): Page("/admin/users", "admin", "administered"),
    ("POST", "/api/v1/chairs"): Page("/admin/chairs", "admin", "administered"),
    ("PATCH", "/api/v1/chairs/{chair_id}"): Page("/admin/chairs", "admin", "administered"),
    ("POST", "/api/v1/devices"): Page("/admin/chairs", "admin", "administered"),
    ("PATCH", "/api/v1/devices/{device_id}"): Page("/admin/chairs", "admin", "administered"),
    ("POST", "/api/v1/review-flags/{flag_id}/resolve"): Page("/review", "psychiatrist", "flag_open"),
    ("POST", "/api/v1/signatures/batch"): Page("/review", "psychiatrist", "review_written"),
    ("POST", "/api/v1/calculators/beam-f3"):
        Page("/patients/{patient_id}/motor-threshold?course_id={course_id}", "technician", "draft_course"),
}

# Routes only machines call: the chair agent, integrations holding a bearer token, or a page's own script.
NO_PAGE: dict[Route, str] = {
    ("POST", "/api/v1/auth/token"): "bearer tokens for the chair agent and integrations; people sign in at /login",
    ("POST", "/api/v1/auth/logout"): "ends a bearer token's session; pages sign out through POST /logout",
    ("POST", "/api/v1/auth/keep-alive"): "sent by idle.js on every page while someone is active, not a user action",
    ("POST", "/api/v1/agent/heartbeat"): "the chair agent reports its device",
    ("POST", "/api/v1/agent/events"): "the chair agent streams delivery events",
    ("POST", "/api/v1/protocols/validate"):
        "records nothing: the course order page's script asks it as the protocol and intensity are chosen",
}

# Routes a person needs and no page offers yet: each value says which page should. Kept empty: a route that
# lands here fails the suite until its page exists.
NO_PAGE_YET: dict[Route, str] = {}
