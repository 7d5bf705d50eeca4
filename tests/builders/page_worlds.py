"""Seeded clinics in the state in which a page offers an action, each returning the ids its URLs need.

tests/web/route_pages.py names these by key (WORLDS); each builder works through the API like a clinic would,
except where a state can only come from the chair agent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from service.core.db import session_scope
from service.flags import service as flags
from service.models.courses import Course
from service.models.flags import FlagKind
from tests.builders.agent_script import ScriptedRun, deliver_command
from tests.builders.clinic import WRITE, ok, ready_clinic
from tests.builders.records import ALL_NO, CHECKLIST_OK
from tests.builders.treatable import World, check_in, treatable
from tests.conftest import T0, Tenant

Ids = dict[str, int]


def clinic(tenant: Tenant) -> Ids:
    ready_clinic(tenant)
    return {}


def draft_course(tenant: Tenant) -> Ids:
    """A referred patient with an ordered course that nothing has been recorded for yet."""
    c = ready_clinic(tenant)
    pid = c.patient()
    return {"patient_id": pid, "course_id": int(c.course(pid)["id"])}


def history_recorded(tenant: Tenant) -> Ids:
    """A draft course whose patient has a medication trial and a medication change on record."""
    ids = draft_course(tenant)
    tech, pid = tenant.client("technician"), ids["patient_id"]
    trial = ok(tech.post(f"/api/v1/patients/{pid}/medication-trials", json={
        "drug": "sertraline", "daily_dose": 100, "start_date": "2026-08-01", "stop_date": "2026-10-01",
        "outcome": "no_response"}), 201)
    change = ok(tech.post(f"/api/v1/patients/{pid}/medication-changes", json={
        "drug": "clonazepam", "change": "start", "changed_on": "2026-10-15"}), 201)
    return ids | {"trial_id": int(trial["id"]), "change_id": int(change["id"])}


def therapy_recorded(tenant: Tenant) -> Ids:
    """A draft course whose patient has a psychotherapy trial on record (its id fills ``trial_id``)."""
    ids = draft_course(tenant)
    therapy = ok(tenant.client("technician").post(f"/api/v1/patients/{ids['patient_id']}/psychotherapy-trials", json={
        "modality": "CBT", "start_date": "2026-01-05", "stop_date": "2026-04-01", "outcome": "partial"}), 201)
    return ids | {"trial_id": int(therapy["id"])}


def eligibility_undocumented(tenant: Tenant) -> Ids:
    """A course ordered before eligibility gated ordering: no decision and no exception on record."""
    ids = draft_course(tenant)
    with session_scope(tenant.app.state.engine) as session:
        course = session.get(Course, ids["course_id"])
        assert course is not None
        course.eligibility_exception = course.eligibility_exception_reason = None
        course.eligibility_status = None
        session.add(course)
    return ids


def _screened(tenant: Tenant, item: str, answer: str) -> Ids:
    ids = draft_course(tenant)
    tech = tenant.client("technician")
    answers = ALL_NO | {item: answer}
    s = ok(tech.post(f"/api/v1/patients/{ids['patient_id']}/screenings",
                     json={"course_id": ids["course_id"], "answers": answers}), 201)
    return ids | {"screening_id": int(s["id"])}


def relative_finding(tenant: Tenant) -> Ids:
    return _screened(tenant, "cardiac_device", "yes")


def unsure_absolute(tenant: Tenant) -> Ids:
    return _screened(tenant, "cochlear_implant", "unsure")


def _ids(world: World) -> Ids:
    return {"patient_id": world.patient_id, "course_id": world.course_id, "booking_id": world.booking_id}


def booked(tenant: Tenant) -> Ids:
    """An active, authorized, screened course with a fresh MT and today's booking not yet checked in."""
    return _ids(treatable(tenant))


def checked_in(tenant: Tenant) -> Ids:
    world = treatable(tenant)
    session = ok(world.tech.post(f"/api/v1/bookings/{world.booking_id}/check-in", headers=WRITE), 201)
    return _ids(world) | {"session_id": int(session["id"])}


def needs_acknowledgement(tenant: Tenant) -> Ids:
    """Checked in; the checklist says the patient lost sleep, which a clinician must acknowledge."""
    ids = checked_in(tenant)
    ok(tenant.client("technician").put(f"/api/v1/sessions/{ids['session_id']}/checklist", headers=WRITE,
                                       json={"answers": CHECKLIST_OK | {"sleep_loss": "yes"}}))
    return ids


def dose_outside_table(tenant: Tenant) -> Ids:
    """Checked in on a course whose stored intensity is outside the safety table (prescribed before it
    tightened): the dose is refused until a psychiatrist signs an override."""
    world = treatable(tenant)
    sid = int(check_in(world)["id"])
    with session_scope(tenant.app.state.engine) as session:
        course = session.get(Course, world.course_id)
        assert course is not None
        course.intensity_pct_mt = 140
        session.add(course)
    return _ids(world) | {"session_id": sid}


def _ready(tenant: Tenant) -> tuple[World, int]:
    world = treatable(tenant)
    return world, int(check_in(world)["id"])


def ready(tenant: Tenant) -> Ids:
    """Checked in with a clear checklist: nothing blocks the start."""
    world, sid = _ready(tenant)
    return _ids(world) | {"session_id": sid}


def delivering(tenant: Tenant) -> Ids:
    """Started: the program is on its way to the chair agent."""
    world, sid = _ready(tenant)
    ok(world.tech.post(f"/api/v1/sessions/{sid}/start", headers=WRITE))
    return _ids(world) | {"session_id": sid}


def interrupted(tenant: Tenant) -> Ids:
    """Five trains delivered, then the chair's agent reports the run stopped: the session ends interrupted."""
    world, sid = _ready(tenant)
    ok(world.tech.post(f"/api/v1/sessions/{sid}/start", headers=WRITE))
    agent = tenant.client("agent")
    deliver_command(agent, world.clinic.chair_id)
    run = ScriptedRun(sid, "run-1", T0)
    run.start()
    run.trains(1, 5, 40, 4.0, 26.0)
    run.add("run_ended", after_s=1, status="interrupted", reason="patient asked to stop")
    run.send(agent)
    return _ids(world) | {"session_id": sid}


def serious_event(tenant: Tenant) -> Ids:
    world = treatable(tenant)
    event = ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/adverse-events", headers=WRITE, json={
        "course_id": world.course_id, "term": "seizure", "grade": 3,
        "onset_at": (T0 - timedelta(hours=2)).isoformat()}), 201)
    return _ids(world) | {"event_id": int(event["id"]), "task_id": int(event["reporting_tasks"][0]["id"])}


def suicide_alert(tenant: Tenant) -> Ids:
    world = treatable(tenant)
    ok(world.tech.post(f"/api/v1/patients/{world.patient_id}/assessments", headers=WRITE, json={
        "instrument": "PHQ-9", "course_id": world.course_id, "items": [2, 2, 2, 2, 2, 2, 2, 2, 1],
        "administered_at": (T0 - timedelta(hours=2)).isoformat()}), 201)
    alerts = ok(world.psych.get("/api/v1/alerts?status=open"))
    (alert,) = [a for a in alerts if a["patient_id"] == world.patient_id]
    return _ids(world) | {"alert_id": int(alert["id"])}


def review_written(tenant: Tenant) -> Ids:
    """A weekly review written and not yet signed."""
    world = treatable(tenant)
    review = ok(world.psych.post(f"/api/v1/courses/{world.course_id}/reviews",
                                 json={"kind": "weekly", "week": 1, "note": "Week 1: tolerating well."}), 201)
    return _ids(world) | {"review_id": int(review["id"])}


def flag_open(tenant: Tenant) -> Ids:
    """A treatable course with an open review flag (a gap in treatment found by the nightly check)."""
    world = treatable(tenant)
    with session_scope(tenant.app.state.engine) as session:
        flag = flags.raise_flag(session, clinic_id=tenant.clinic_id, key=f"gap-{tenant.clinic_id}", kind=FlagKind.gap,
                                message="Found by the nightly check.", now=T0, patient_id=world.patient_id,
                                course_id=world.course_id)
        assert flag is not None and flag.id is not None
        return _ids(world) | {"flag_id": flag.id}


def extension_due(tenant: Tenant) -> Ids:
    """A Medicare course 30% better on the PHQ-9 after session 20: the template's extension applies."""
    from tests.service.test_course_extension import after_session, medicare_course

    course = medicare_course(ready_clinic(tenant))
    after_session(tenant, tenant.app.state.clock, course, 20, baseline=20, now_total=14)
    return {"patient_id": int(course["patient_id"]), "course_id": int(course["id"])}


def authorized(tenant: Tenant) -> Ids:
    """A booked course with its payer authorization."""
    world = treatable(tenant)
    (auth,) = ok(world.psych.get(f"/api/v1/authorizations?course_id={world.course_id}"))
    return _ids(world) | {"authorization_id": int(auth["id"])}


def administered(tenant: Tenant) -> Ids:
    """A clinic with hours, a technician on shift, a chair with its device, a closure and a day off ahead."""
    c = ready_clinic(tenant)
    closure = ok(c.admin.post("/api/v1/calendar/closures", json={"day": "2026-12-24", "reason": "Staff party"}), 201)
    off = ok(c.admin.post("/api/v1/calendar/days-off", json={
        "user_id": c.technician_id, "day": "2026-11-27", "reason": "Training course"}), 201)["day_off"]
    return {"user_id": c.technician_id, "chair_id": c.chair_id, "device_id": c.device_id,
            "closure_id": int(closure["id"]), "day_off_id": int(off["id"])}


WORLDS: dict[str, Callable[[Tenant], Ids]] = {f.__name__: f for f in (
    clinic, draft_course, history_recorded, therapy_recorded, eligibility_undocumented, relative_finding,
    unsure_absolute, booked, checked_in, needs_acknowledgement, dose_outside_table, ready, delivering, interrupted,
    serious_event, suicide_alert, review_written, flag_open, extension_due, authorized,
    administered)}
