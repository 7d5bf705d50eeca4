"""One row of every kind a path id can name, in a tenant's clinic, so hostile requests get past the 404.

Built through the API the way a clinic fills its records (tests/builders/treatable.py does the treatable booking),
plus the few rows only the system raises (a review flag). ``ids`` maps each path parameter name to a real
row; ``trial_id`` is split by route because two tables share the name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select

from service.core.db import session_scope
from service.flags.service import raise_flag
from service.models.flags import FlagKind
from service.models.sessions import TreatmentSession
from tests.builders.clinic import ok
from tests.builders.records import TODAY
from tests.builders.treatable import add_sessions, check_in, treatable
from tests.conftest import PASSWORD, T0, Tenant


@dataclass
class SecurityWorld:
    tenant: Tenant
    ids: dict[str, int] = field(default_factory=dict)
    spare_user_id: int = 0

    def path_ids(self, path: str) -> dict[str, int]:
        """Real ids for the parameters in ``path`` (those the world knows)."""
        found = {name: value for name, value in self.ids.items() if "{" + name + "}" in path}
        if "{trial_id}" in path:
            found["trial_id"] = self.ids["psychotherapy_trial_id" if "psychotherapy" in path else "medication_trial_id"]
        if "{user_id}" in path:
            found["user_id"] = self.spare_user_id  # never a role account: a case could deactivate it
        if path.endswith("/progress"):
            found["session_id"] = self.ids["ended_session_id"]  # a live session's stream runs for minutes
        return found


def build(tenant: Tenant) -> SecurityWorld:
    world = treatable(tenant)
    tech, psych, admin = world.tech, world.psych, world.clinic.admin
    pid, cid = world.patient_id, world.course_id
    session = check_in(world)
    add_sessions(world, 1)  # one delivered session: its progress stream ends at once
    day = timedelta(days=1)

    med = ok(tech.post(f"/api/v1/patients/{pid}/medication-trials", json={
        "drug": "sertraline", "daily_dose": 150, "start_date": (TODAY - 70 * day).isoformat(),
        "stop_date": (TODAY - 10 * day).isoformat(), "outcome": "no_response"}), 201)
    therapy = ok(tech.post(f"/api/v1/patients/{pid}/psychotherapy-trials", json={
        "modality": "CBT", "start_date": (TODAY - 200 * day).isoformat(),
        "stop_date": (TODAY - 100 * day).isoformat(), "outcome": "partial"}), 201)
    change = ok(tech.post(f"/api/v1/patients/{pid}/medication-changes", json={
        "drug": "clonazepam", "change": "start", "changed_on": TODAY.isoformat()}), 201)
    assessment = ok(tech.post(f"/api/v1/patients/{pid}/assessments", json={
        "instrument": "PHQ-9", "course_id": cid, "administered_at": (T0 - timedelta(hours=1)).isoformat(),
        "items": [3, 3, 2, 2, 1, 1, 0, 0, 1, None]}), 201)
    event = ok(tech.post(f"/api/v1/patients/{pid}/adverse-events", json={
        "course_id": cid, "term": "seizure", "grade": 3, "onset_at": (T0 - timedelta(hours=2)).isoformat()}), 201)
    screenings = ok(tech.get(f"/api/v1/patients/{pid}/screenings"))
    closure = ok(admin.post("/api/v1/calendar/closures", json={"day": (TODAY + 30 * day).isoformat(),
                                                               "reason": "staff training"}), 201)
    review = ok(psych.post(f"/api/v1/courses/{cid}/reviews", json={
        "kind": "weekly", "week": 1, "note": "Tolerating well, no change.", "plan": "Continue as prescribed."}), 201)
    authorizations = ok(admin.get("/api/v1/authorizations", params={"course_id": cid}))
    spare = ok(admin.post("/api/v1/users", json={
        "username": f"spare-{uuid.uuid4().hex[:8]}", "display_name": "Spare Technician", "role": "technician",
        "password": PASSWORD}), 201)
    with session_scope(tenant.app.state.engine) as s:
        ended = s.exec(select(TreatmentSession.id).where(TreatmentSession.course_id == cid,
                                                         TreatmentSession.status == "completed")).one()
        flag = raise_flag(s, clinic_id=tenant.clinic_id, key=f"security-{uuid.uuid4().hex}", kind=FlagKind.gap,
                          message="raised for the hostile-input suite", now=T0, patient_id=pid, course_id=cid)
        assert flag is not None
        flag_id = flag.id or 0

    ids = {
        "patient_id": pid, "course_id": cid, "booking_id": world.booking_id, "session_id": int(session["id"]),
        "chair_id": world.clinic.chair_id, "device_id": world.clinic.device_id,
        "medication_trial_id": int(med["id"]), "psychotherapy_trial_id": int(therapy["id"]),
        "change_id": int(change["id"]), "alert_id": int(assessment["alerts"][0]["id"]),
        "screening_id": int(screenings[0]["id"]), "event_id": int(event["id"]),
        "task_id": int(event["reporting_tasks"][0]["id"]), "closure_id": int(closure["id"]),
        "review_id": int(review["id"]), "authorization_id": int(authorizations[0]["id"]), "flag_id": flag_id,
        "ended_session_id": ended or 0,
    }
    return SecurityWorld(tenant, ids, int(spare["id"]))
