"""Safety interlocks as a state machine: the device is never programmed while any gate says no.

A hypothesis ``RuleBasedStateMachine`` walks one patient's course through the real API in random orders, as
the clinic would: the technician books, checks in, answers the checklist, records screens, adverse events,
PHQ-9s and medication changes and starts and stops sessions; the psychiatrist clears screening findings and
serious events, answers suicide-risk alerts, determines the motor threshold and holds or resumes the course;
the admin withdraws and reinstates the payer's authorisation; the chair agent takes its commands and reports
what the device delivered; the frozen clock moves on by hours or days (missed days: stale MT, gaps, expired
authorisations). ``gate_model.World`` keeps its own account of what every gate should say, written from the
clinical rules rather than by asking the service.

After every step the machine checks that
- the chair commands queued for each session (the device being programmed) are exactly the starts and resumes
  the model allowed, and every session and booking is in the state the model expects;
- the preflight of every session waiting at the chair names exactly the model's blocking reasons;
and at every start that a refusal is a 409 naming exactly the model's reasons, changing no row.

Every example is a fresh clinic (tenant) with its own chair, patient and course, and the clock starts again
at T0. The suite runs a small fixed, derandomized budget on SQLite and PostgreSQL (about 20 s and 35 s); for a
longer hunt set ``TMS_STATEFUL_EXAMPLES`` (examples per database, default 20) and ``TMS_STATEFUL_STEPS``
(steps per example, default 30), e.g.
``TMS_STATEFUL_EXAMPLES=300 TMS_STATEFUL_STEPS=40 pytest tests/safety/test_interlock_machine.py`` (~11 min on
SQLite). A failure prints the shortest sequence of steps hypothesis found.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import holidays
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func
from sqlmodel import Session as DBSession
from sqlmodel import col, select

from config import clinical_data
from service.core.clock import FrozenClock
from service.models.audit import AuditEvent
from service.models.bookings import Booking as BookingRow
from service.models.sessions import ChairCommand, TreatmentSession
from tests.conftest import T0, make_tenant, patient_body
from tests.safety.gate_model import (
    ABSOLUTE_ITEMS,
    CHECKLIST_ITEMS,
    CNS_ACTIVE,
    MUST_BE_YES,
    RELATIVE_ITEMS,
    Authorization,
    Booking,
    MotorThreshold,
    Screen,
    Session,
    World,
    local,
)
from tests.safety.gate_model import AdverseEvent as Event

EXAMPLES = int(os.environ.get("TMS_STATEFUL_EXAMPLES", "20"))
STEPS = int(os.environ.get("TMS_STATEFUL_STEPS", "30"))
WRITE = {"X-Requested-With": "test"}
ALL_NO = {i.id: "no" for i in clinical_data.screening().items}
CLEAN_CHECKLIST = dict.fromkeys(CHECKLIST_ITEMS, "no") | dict.fromkeys(MUST_BE_YES, "yes")
# The machine's clinic is open every day, holidays included: the subject is the gates, not the calendar.
HOLIDAYS = sorted(set(holidays.country_holidays("US", years=range(2026, 2029)).values()))
PROTOCOL = "hf10_3000_iti26"
PLANNED_SESSIONS = 36  # the protocol's standard-36 template
PULSES_PER_TRAIN = 40
FLAGGED = ("sleep_loss", "alcohol_or_drugs", "caffeine", "medication_change", "new_symptoms", "seizure_or_fainting",
           "no_hearing_protection", "no_coil_confirmation", "unfinished")


def expect(response: Any, status: int) -> Any:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    return response.json()


def error_code(response: Any) -> str:
    return str(response.json()["error"].get("code"))


class InterlockMachine(RuleBasedStateMachine):
    """One patient's course at one chair, driven through the API; ``self.world`` is the independent model."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__()
        self.app = app
        self.clock = FrozenClock(T0)
        app.state.clock = self.clock  # every example starts at T0
        self.tenant = make_tenant(app)
        self._sign_in()
        self.world = World(now=T0, payer=False)
        self.patient_id = self.course_id = self.chair_id = 0
        self.runs = 0

    def _sign_in(self) -> None:
        """Everyone signs in (again): sessions end after 15 idle minutes, so after every move of the clock."""
        self.tech, self.psych, self.admin, self.agent = (
            self._client(r) for r in ("technician", "psychiatrist", "admin", "agent"))

    def _client(self, role: str) -> TestClient:
        client = self.tenant.fresh_client(role)
        client.headers.update(WRITE)
        return client

    # --- the world ---------------------------------------------------------------------------------------

    @initialize(payer=st.booleans(), units=st.sampled_from([1, 2, 6]), auth_from=st.sampled_from([0, 0, 1]),
                auth_days=st.sampled_from([1, 5, 30]), screened=st.sampled_from([True, True, False]),
                mt=st.sampled_from([True, True, False]))
    def open_clinic(self, payer: bool, units: int, auth_from: int, auth_days: int, screened: bool,
                    mt: bool) -> None:
        """A clinic open every day with one Rapid² chair, a patient with an active 10 Hz course."""
        expect(self.admin.put("/api/v1/calendar", json={
            "reason": "open daily for the interlock machine", "setup_buffer_minutes": 10,
            "hours": [{"weekday": d, "open": "08:00", "close": "18:00"} for d in range(7)],
            "country": "US", "open_on_holidays": HOLIDAYS}), 200)
        shifts = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(7)]
        r = self.admin.put(f"/api/v1/calendar/shifts/{self.tenant.users['technician']}",
                           json={"reason": "daily rota", "shifts": shifts})
        assert r.status_code == 204, r.text
        device = expect(self.admin.post("/api/v1/devices", json={
            "model": "magstim-rapid2", "serial": f"S-{uuid.uuid4().hex[:8]}", "coil_model": "D70"}), 201)
        self.device_serial, self.device_id = device["serial"], device["id"]
        self.other_device_id = expect(self.admin.post("/api/v1/devices", json={  # a unit at no chair of the machine
            "model": "magstim-rapid2", "serial": f"S-{uuid.uuid4().hex[:8]}", "coil_model": "D70"}), 201)["id"]
        self.chair_id = expect(self.admin.post("/api/v1/chairs", json={"name": "Chair 1", "device_id": device["id"]}),
                               201)["id"]
        self.patient_id = expect(self.tech.post("/api/v1/patients", json=patient_body(
            payer="Medicare" if payer else None)), 201)["id"]
        # A new patient is not yet eligible under any criteria set: the psychiatrist documents the exception.
        exception = {"basis": "clinical_judgement" if payer else "self_pay",
                     "reason": "ordered for the interlock machine's patient"}
        course = expect(self.psych.post("/api/v1/courses", json={
            "patient_id": self.patient_id, "protocol_id": PROTOCOL, "intensity_pct_mt": 120,
            "eligibility_exception": exception}), 201)
        self.course_id = course["id"]
        expect(self.psych.post(f"/api/v1/courses/{self.course_id}/status",
                               json={"status": "active", "reason": "screened and consented"}), 200)
        self.world.payer = payer
        if payer:
            start = self.world.today + timedelta(days=auth_from)
            end = start + timedelta(days=auth_days)
            auth = expect(self.admin.post("/api/v1/authorizations", json={
                "course_id": self.course_id, "payer": "Medicare", "number": f"A-{uuid.uuid4().hex[:8]}",
                "start_date": start.isoformat(), "end_date": end.isoformat(),
                "units": [{"cpt": "90867", "units": 1}, {"cpt": "90868", "units": units - 1}]}), 201)
            self.world.auth = Authorization(auth["id"], start, end, units)
        if screened:
            self.world.screens.append(Screen(self.world.today, frozenset(), frozenset(), False, id=expect(
                self.tech.post(f"/api/v1/patients/{self.patient_id}/screenings",
                               json={"course_id": self.course_id, "answers": ALL_NO}), 201)["id"]))
        if mt:
            self.determine_mt(value=50)

    # --- booking and the chair -------------------------------------------------------------------------

    def _book(self, start: datetime) -> Booking | None:
        refusal = self.world.booking_refusal(start)
        r = self.tech.post("/api/v1/bookings", json={
            "course_id": self.course_id, "chair_id": self.chair_id, "start_at": start.isoformat(),
            "technician_id": self.tenant.users["technician"]})
        if len(self.world.bookings) >= PLANNED_SESSIONS:  # every session the course plans is booked
            assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "sequence", r.text
            return None
        if refusal is not None:
            assert r.status_code == 409 and error_code(r) == refusal, f"expected 409 {refusal}: {r.text}"
            return None
        booking = expect(r, 201)
        auth_id = booking["authorization"]["id"] if booking["authorization"] else None
        assert auth_id == (self.world.auth.id if self.world.payer else None)  # type: ignore[union-attr]
        self.world.bookings.append(Booking(booking["id"], start, auth_id))
        return self.world.bookings[-1]

    @rule(days=st.sampled_from([0, 0, 1, 2]))
    def book(self, days: int) -> None:
        """Book now (today's next slot) or the first slot of a later day."""
        self._book(self.world.day_start(days) if days else self.world.now)

    @precondition(lambda self: any(b.status == "booked" for b in self.world.bookings))
    @rule(data=st.data(), answers=st.sampled_from(["clean", "later", *FLAGGED]))
    def check_in(self, data: st.DataObject, answers: str) -> None:
        """Any booked session, today's or not (the API lets the technician pick it); then usually the checklist."""
        self._check_in(data.draw(st.sampled_from([b for b in self.world.bookings if b.status == "booked"])), answers)

    def _check_in(self, booking: Booking, answers: str) -> Session:
        session = expect(self.tech.post(f"/api/v1/bookings/{booking.id}/check-in"), 201)
        booking.status, booking.session = "checked_in", Session(session["id"])
        if answers != "later":
            self._answer(booking.session, answers)
        return booking.session

    def _waiting(self) -> list[Session]:
        return [s for s in self.world.sessions if s.status in ("checked_in", "ready_to_start")]

    @precondition(lambda self: bool(self._waiting()))
    @rule(data=st.data(), kind=st.sampled_from(["clean", *FLAGGED]))
    def answer_checklist(self, data: st.DataObject, kind: str) -> None:
        """(Re-)answer the checklist of a session waiting at the chair."""
        self._answer(data.draw(st.sampled_from(self._waiting())), kind)

    def _answer(self, session: Session, kind: str) -> None:
        answers = dict(CLEAN_CHECKLIST)
        if kind == "no_hearing_protection":
            answers["hearing_protection"] = "no"
        elif kind == "no_coil_confirmation":
            answers["coil_position_confirmed"] = "no"
        elif kind == "unfinished":
            del answers["caffeine"]
        elif kind != "clean":
            answers[kind] = "yes"
        body = {"answers": answers, "coil_position": {"method": "beam_f3", "x_cm": 5.1, "y_cm": 7.2}}
        out = expect(self.tech.put(f"/api/v1/sessions/{session.id}/checklist", json=body), 200)
        session.answers = answers
        session.acknowledged = {i for i in session.acknowledged if answers.get(i) == "yes"}
        session.status = "ready_to_start" if World.checklist_ready(answers) else "checked_in"
        assert out["status"] == session.status
        assert set(out["checklist"]["acknowledgements"]) == session.acknowledged, out["checklist"]

    def _to_acknowledge(self) -> list[Session]:
        return [s for s in self._waiting() if World.to_acknowledge(s)]

    @precondition(lambda self: bool(self._to_acknowledge()))
    @rule(data=st.data())
    def acknowledge_checklist_answer(self, data: st.DataObject) -> None:
        """A clinician reviews one checklist answer that matters and acknowledges it with a note."""
        session = data.draw(st.sampled_from(self._to_acknowledge()))
        self._acknowledge(session, data.draw(st.sampled_from(World.to_acknowledge(session))))

    def _acknowledge(self, session: Session, item: str) -> None:
        out = expect(self.psych.post(f"/api/v1/sessions/{session.id}/checklist/acknowledgements",
                                     json={"item_id": item, "note": "reviewed with the patient: treat today"}), 200)
        session.acknowledged.add(item)
        assert set(out["checklist"]["acknowledgements"]) == session.acknowledged

    @precondition(lambda self: bool(self._waiting()))
    @rule(data=st.data())
    def start(self, data: st.DataObject) -> None:
        self._start(data.draw(st.sampled_from(self._waiting())))

    @rule(days_later=st.sampled_from([0, 1, 1, 2]), answers=st.sampled_from(["clean", "clean", "clean", *FLAGGED]),
          ending=st.sampled_from(["completed", "completed", "stopped", "left running"]))
    def visit(self, days_later: int, answers: str, ending: str) -> None:
        """The usual visit: (a day or two later) book the next slot, check in, answer the checklist, press start,
        and usually see the session through."""
        if days_later:
            self.time_passes(days_later)
        booking = self._book(self.world.now)
        if booking is None:
            return
        session = self._check_in(booking, answers)
        if self._start(session) and ending != "left running":
            self._finish(session, ending, trains=2)

    @rule(visits=st.integers(2, 6))
    def visits_in_a_row(self, visits: int) -> None:
        """Daily sessions one after the other: the MT's session count and the authorised units run out."""
        for _ in range(visits):
            self.visit(days_later=1, answers="clean", ending="completed")

    def _start(self, session: Session) -> bool:
        """Start: allowed exactly when the model says every gate is clear; a refusal names the model's reasons."""
        before = self._rows()
        r = self.tech.post(f"/api/v1/sessions/{session.id}/start")
        if session.status != "ready_to_start":
            assert r.status_code == 409 and error_code(r) == "not_ready", r.text
        elif blocked := self.world.blockers(session):
            assert r.status_code == 409, f"started although the model says {sorted(blocked)}: {r.text}"
            error = r.json()["error"]
            assert error["code"] == "treatment_blocked", r.text
            assert {d["code"] for d in error["details"]} == blocked, f"model says {sorted(blocked)}: {r.text}"
        elif self.world.dose_refused():
            assert r.status_code == 409 and error_code(r) == "dose_refused", r.text
        else:
            assert expect(r, 200)["status"] == "programming"
            session.status, session.started_at, session.programs = "programming", self.world.now, 1
            session.intensity, session.output = self.world.intensity, int(self.world.output(self.world.intensity))
            self.world.booking_of(session).status = "in_progress"
            session.trains_left = self._agent_takes(session, "deliver")
            return True
        assert self._rows() == before, "a refused start changed the database"
        return False

    def _live(self) -> list[Session]:
        return [s for s in self.world.sessions if s.status == "programming"]

    @precondition(lambda self: bool(self._live()))
    @rule(data=st.data(), ending=st.sampled_from(["completed", "stopped"]), trains=st.integers(0, 5))
    def device_reports(self, data: st.DataObject, ending: str, trains: int) -> None:
        """A live session ends: every train delivered, or the technician stops it after a few trains."""
        self._finish(data.draw(st.sampled_from(self._live())), ending, trains)

    def _finish(self, session: Session, ending: str, trains: int) -> None:
        if ending == "completed":
            self._report(session, session.trains_left, "completed")
            session.status = self.world.booking_of(session).status = "completed"
            return
        # Stopped: the agent must get a stop for this session, then reports it interrupted (the device disarmed).
        expect(self.tech.post(f"/api/v1/sessions/{session.id}/stop", json={"reason": "patient asked to stop"}), 200)
        session.stops += 1
        self._agent_takes(session, "stop")
        given = min(trains, session.trains_left - 1)
        self._report(session, given, "interrupted")
        session.trains_left -= given
        session.status = self.world.booking_of(session).status = "interrupted"

    @precondition(lambda self: any(s.status == "interrupted" for s in self.world.sessions))
    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        """Resuming re-runs the gates but not the day's limit or the units (counted at the first start), so it
        is allowed on the day the session started only."""
        session = data.draw(st.sampled_from([s for s in self.world.sessions if s.status == "interrupted"]))
        before = self._rows()
        r = self.tech.post(f"/api/v1/sessions/{session.id}/resume")
        if local(session.started_at).date() != self.world.today:  # type: ignore[arg-type]
            assert r.status_code == 409 and error_code(r) == "resume_other_day", r.text
        elif blocked := self.world.blockers(session, resuming=True):
            assert r.status_code == 409, f"resumed although the model says {sorted(blocked)}: {r.text}"
            assert {d["code"] for d in r.json()["error"]["details"]} == blocked, r.text
        elif refusal := self.world.resume_refusal(session):
            assert r.status_code == 409 and error_code(r) == refusal, f"expected 409 {refusal}: {r.text}"
        else:
            assert expect(r, 200)["status"] == "programming"
            session.status, session.programs = "programming", session.programs + 1
            self.world.booking_of(session).status = "in_progress"
            assert self._agent_takes(session, "deliver") == session.trains_left
            return
        assert self._rows() == before, "a refused resume changed the database"

    def _agent_takes(self, session: Session, kind: str) -> int:
        """The chair agent's poll right after the request: exactly one command, this one; returns its trains."""
        commands = expect(self.agent.get("/api/v1/agent/commands", params={"chair_id": self.chair_id, "wait": 0}),
                          200)
        assert [(c["session_id"], c["kind"]) for c in commands] == [(session.id, kind)], commands
        return int(commands[0]["payload"]["protocol"]["trains"]) if kind == "deliver" else 0

    def _report(self, session: Session, trains: int, end: str) -> None:
        self.runs += 1
        run, events = f"run-{session.id}-{self.runs}", list[dict[str, Any]]()
        at = self.world.now

        def add(kind: str, **payload: Any) -> None:
            nonlocal at
            at += timedelta(seconds=1)
            events.append({"device": self.device_serial, "device_session": run, "seq": len(events) + 1,
                           "session_id": session.id, "kind": kind, "at": at.isoformat(), "payload": payload})

        add("run_started", mode="control", device={"model": "magstim-rapid2", "serial": self.device_serial})
        add("programmed", parameters={"trains": trains})
        for train in range(1, trains + 1):
            add("train_started", train=train, planned_pulses=PULSES_PER_TRAIN)
            add("train_ended", train=train, delivered_pulses=PULSES_PER_TRAIN, completed=True)
        add("run_ended", status=end, reason=None if end == "completed" else "stopped by the technician")
        expect(self.agent.post("/api/v1/agent/events", json={"events": events}), 200)

    # --- the clinical record -----------------------------------------------------------------------------

    @rule(data=st.data())
    def technician_records(self, data: st.DataObject) -> None:
        """One entry in the chart: a screen, an adverse event, a PHQ-9 or a medication change."""
        entry = data.draw(st.sampled_from([self.screen, self.adverse_event, self.phq9, self.change_medication]))
        entry(data)

    @rule(data=st.data())
    def psychiatrist_acts(self, data: st.DataObject) -> None:
        """Whatever of the psychiatrist's work applies now: clearances, alert responses, MT, the course's status."""
        acts: list[Callable[[st.DataObject], None]] = [self.determine_mt, self.hold_or_reactivate_course,
                                                       self.change_intensity]
        if self._unclear():
            acts.append(self.clear_finding)
        if self.world.screens and self.world.screens[-1].contraindicated:
            acts.append(self.try_to_clear_an_absolute_contraindication)
        if self._unchecked():
            acts.append(self.check_unsure_answer)
        if any(e.serious and not e.cleared for e in self.world.events):
            acts.append(self.clear_adverse_event)
        if self.world.open_alerts:
            acts.append(self.respond_to_alert)
        data.draw(st.sampled_from(acts))(data)

    @rule()
    def team_catches_up(self) -> None:
        """Everyone works through what blocks treatment: a clean re-screen when the last one is not clean or is
        older than a medication change, every clearance and alert response, a new MT, the course and the
        authorisation back in force. Single steps then break one gate at a time."""
        latest = self.world.screens[-1] if self.world.screens else None
        if latest is None or latest.contraindicated or latest.incomplete or any(
                d > latest.completed_on for d, _ in self.world.medication_changes):
            self.screen(kind="clean")
        while self._unclear():
            self.clear_finding(item=self._unclear()[0])
        for serious in [e for e in self.world.events if e.serious and not e.cleared]:
            self.clear_adverse_event(event=serious)
        for alert in sorted(self.world.open_alerts):
            self.respond_to_alert(alert=alert)
        self.determine_mt(value=50)
        if not self.world.course_active:
            self.hold_or_reactivate_course()
        for session in self._to_acknowledge():
            for item in World.to_acknowledge(session):
                self._acknowledge(session, item)
        if self.world.auth is not None and self.world.auth.withdrawn:
            self.withdraw_or_reinstate_authorization()

    def screen(self, data: st.DataObject | None = None, kind: str | None = None) -> None:
        kind = kind or data.draw(st.sampled_from(  # type: ignore[union-attr]
            ["clean", "absolute", "relative", "absolute_and_relative", "unsure", "unfinished"]))
        answers = dict(ALL_NO)
        absolute = frozenset(ABSOLUTE_ITEMS[:1]) if "absolute" in kind else frozenset()
        relative = frozenset(RELATIVE_ITEMS[:2]) if "relative" in kind else frozenset()
        unsure = frozenset(ABSOLUTE_ITEMS[1:2]) if kind == "unsure" else frozenset()
        answers |= dict.fromkeys(absolute | relative, "yes") | dict.fromkeys(unsure, "unsure")
        if kind == "unfinished":
            del answers["headaches"]
        row = expect(self.tech.post(f"/api/v1/patients/{self.patient_id}/screenings",
                                    json={"course_id": self.course_id, "answers": answers}), 201)
        self.world.screens.append(Screen(self.world.today, absolute, relative, kind == "unfinished", id=row["id"],
                                         unsure=unsure))

    def adverse_event(self, data: st.DataObject) -> None:
        serious = data.draw(st.booleans())
        term, grade = ("seizure", 3) if serious else ("headache", 1)
        row = expect(self.tech.post(f"/api/v1/patients/{self.patient_id}/adverse-events", json={
            "course_id": self.course_id, "term": term, "grade": grade,
            "onset_at": (self.world.now - timedelta(minutes=30)).isoformat()}), 201)
        assert row["serious"] is serious
        self.world.events.append(Event(row["id"], serious))

    def phq9(self, data: st.DataObject) -> None:
        item9 = data.draw(st.sampled_from([0, 1]))
        expect(self.tech.post(f"/api/v1/patients/{self.patient_id}/assessments", json={
            "instrument": "PHQ-9", "administered_at": (self.world.now - timedelta(minutes=20)).isoformat(),
            "course_id": self.course_id, "items": [2, 2, 2, 2, 1, 1, 1, 1, item9, None]}), 201)
        alerts = expect(self.psych.get("/api/v1/alerts", params={"status": "open"}), 200)
        found = {a["id"] for a in alerts}
        assert found >= self.world.open_alerts and len(found - self.world.open_alerts) == item9, alerts
        self.world.open_alerts = found

    def change_medication(self, data: st.DataObject) -> None:
        """A dose change, possibly back-dated: bupropion and lorazepam are CNS-active, sertraline is not."""
        drug = data.draw(st.sampled_from(sorted(CNS_ACTIVE)))
        changed_on = self.world.today - timedelta(days=data.draw(st.integers(0, 3)))
        row = expect(self.tech.post(f"/api/v1/patients/{self.patient_id}/medication-changes", json={
            "drug": drug, "change": "dose_change", "changed_on": changed_on.isoformat(), "new_daily_dose": 150}), 201)
        assert row["cns_active"] is CNS_ACTIVE[drug]
        self.world.medication_changes.append((changed_on, CNS_ACTIVE[drug]))

    def _unclear(self) -> list[str]:
        screen = self.world.screens[-1] if self.world.screens else None
        return sorted(screen.relative - screen.cleared) if screen else []

    def clear_finding(self, data: st.DataObject | None = None, item: str | None = None) -> None:
        item = item or data.draw(st.sampled_from(self._unclear()))  # type: ignore[union-attr]
        screen = self.world.screens[-1]
        expect(self.psych.post(f"/api/v1/screenings/{screen.id}/clearances",
                               json={"item_id": item, "reason": "benefit outweighs the risk; discussed"}), 201)
        screen.cleared.add(item)

    def _unchecked(self) -> list[str]:
        screen = self.world.screens[-1] if self.world.screens else None
        return sorted(i for i in screen.unsure if i not in screen.checked) if screen else []

    def check_unsure_answer(self, data: st.DataObject) -> None:
        """A clinician checks an unsure answer (implant card, report) and records yes or no."""
        screen = self.world.screens[-1]
        item, answer = data.draw(st.sampled_from(self._unchecked())), data.draw(st.sampled_from(["no", "no", "yes"]))
        expect(self.tech.post(f"/api/v1/screenings/{screen.id}/checks",
                              json={"item_id": item, "answer": answer, "how_checked": "audiology report"}), 201)
        screen.checked[item] = answer

    def try_to_clear_an_absolute_contraindication(self, data: st.DataObject) -> None:
        """Neither an absolute "yes" nor an unsure absolute item is cleared by a note."""
        screen = self.world.screens[-1]
        before = self._rows()
        items = sorted(screen.absolute | {i for i in screen.unsure if screen.checked.get(i, "yes") == "yes"})
        r = self.psych.post(f"/api/v1/screenings/{screen.id}/clearances",
                            json={"item_id": items[0], "reason": "the patient insists on it"})
        assert r.status_code == 422, r.text
        assert self._rows() == before

    def clear_adverse_event(self, data: st.DataObject | None = None, event: Event | None = None) -> None:
        event = event or data.draw(st.sampled_from(  # type: ignore[union-attr]
            [e for e in self.world.events if e.serious and not e.cleared]))
        expect(self.psych.post(f"/api/v1/adverse-events/{event.id}/clearance",
                               json={"note": "EEG normal, neurology agrees to continue"}), 200)
        event.cleared = True

    def respond_to_alert(self, data: st.DataObject | None = None, alert: int | None = None) -> None:
        alert = alert or data.draw(st.sampled_from(sorted(self.world.open_alerts)))  # type: ignore[union-attr]
        expect(self.psych.post(f"/api/v1/alerts/{alert}/response",
                               json={"note": "C-SSRS done, low risk, safety plan agreed"}), 200)
        self.world.open_alerts.discard(alert)

    def determine_mt(self, data: st.DataObject | None = None, value: float | None = None) -> None:
        """A new determination 10 minutes ago, usually on the chair's unit, sometimes on another; 90% MSO makes
        120% of it more than the device can give (110% of it just fits)."""
        value = value if value is not None else data.draw(st.sampled_from([50, 50, 45, 90]))  # type: ignore[union-attr]
        on_chair = data is None or data.draw(st.sampled_from([True, True, False]))
        determined_at = self.world.now - timedelta(minutes=10)
        expect(self.psych.post(f"/api/v1/patients/{self.patient_id}/motor-thresholds", json={
            "determined_at": determined_at.isoformat(), "method": "emg_relative_frequency", "muscle": "APB",
            "value_pct_mso": value, "device_id": self.device_id if on_chair else self.other_device_id}), 201)
        self.world.mts.append(MotorThreshold(determined_at, value, on_chair))

    def change_intensity(self, data: st.DataObject) -> None:
        """The psychiatrist amends the course's intensity: above the table's cell for 4 s trains it is refused."""
        intensity = data.draw(st.sampled_from([110, 120, 130, 140]))
        before = self._rows()
        r = self.psych.patch(f"/api/v1/courses/{self.course_id}",
                             json={"reason": "response review", "intensity_pct_mt": intensity})
        if intensity == self.world.intensity:
            assert r.status_code == 422, r.text  # an amendment must change something
        elif not World.within_table(intensity):
            assert r.status_code == 409 and error_code(r) == "dose_outside_table", r.text
            assert self._rows() == before, "a refused amendment changed the database"
        else:
            assert expect(r, 200)["intensity_pct_mt"] == intensity
            self.world.intensity = intensity

    def hold_or_reactivate_course(self, data: st.DataObject | None = None) -> None:
        status = "on_hold" if self.world.course_active else "active"
        expect(self.psych.post(f"/api/v1/courses/{self.course_id}/status",
                               json={"status": status, "reason": "insurance review"}), 200)
        self.world.course_active = not self.world.course_active

    # --- authorisation, clock ----------------------------------------------------------------------------

    @precondition(lambda self: self.world.auth is not None)
    @rule()
    def withdraw_or_reinstate_authorization(self) -> None:
        auth = self.world.auth
        assert auth is not None
        status = "active" if auth.withdrawn else "withdrawn"
        expect(self.admin.patch(f"/api/v1/authorizations/{auth.id}",
                                json={"status": status, "reason": "payer letter received"}), 200)
        auth.withdrawn = not auth.withdrawn

    @rule(days=st.sampled_from([0, 0, 1, 1, 2, 3, 8]))
    def time_passes(self, days: int) -> None:
        """Two hours (0: the next slot today, if there is one) or days: missed days make MTs and auths lapse."""
        moment = self.world.next_slot() if days == 0 else None
        moment = moment or self.world.day_start(max(days, 1))
        self.clock.advance(moment - self.world.now)
        self.world.now = self.clock.now()
        assert local(self.world.now) == moment
        self._sign_in()

    # --- invariants ------------------------------------------------------------------------------------------

    def _rows(self) -> tuple[Any, ...]:
        """What a refusal must leave alone: commands, sessions, bookings, and the patient's audit trail."""
        with DBSession(self.app.state.engine) as db:
            commands = db.exec(select(func.count()).select_from(ChairCommand)
                               .where(ChairCommand.clinic_id == self.tenant.clinic_id)).one()
            sessions = db.exec(select(TreatmentSession.id, TreatmentSession.status, TreatmentSession.updated_at)
                               .where(TreatmentSession.clinic_id == self.tenant.clinic_id)
                               .order_by(col(TreatmentSession.id))).all()
            bookings = db.exec(select(BookingRow.id, BookingRow.status, BookingRow.version)
                               .where(BookingRow.clinic_id == self.tenant.clinic_id).order_by(col(BookingRow.id))).all()
            audit = db.exec(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.patient_id == self.patient_id)).one()
        return commands, tuple(sessions), tuple(bookings), audit

    @invariant()
    def the_device_is_programmed_only_when_the_model_allowed_it(self) -> None:
        with DBSession(self.app.state.engine) as db:
            commands = db.exec(select(ChairCommand.session_id, ChairCommand.kind)
                               .where(ChairCommand.clinic_id == self.tenant.clinic_id)).all()
            sessions = dict(db.exec(select(TreatmentSession.id, TreatmentSession.status)
                                    .where(TreatmentSession.clinic_id == self.tenant.clinic_id)).all())
            bookings = dict(db.exec(select(BookingRow.id, BookingRow.status)
                                    .where(BookingRow.clinic_id == self.tenant.clinic_id)).all())
        for kind, attr in (("deliver", "programs"), ("stop", "stops")):
            found = {s: sum(1 for sid, k in commands if sid == s and k == kind) for s in sessions}
            expected = {s.id: getattr(s, attr) for s in self.world.sessions}
            assert found == expected, f"{kind} commands per session {found}, the model allowed {expected}"
        assert sessions == {s.id: s.status for s in self.world.sessions}
        assert bookings == {b.id: b.status for b in self.world.bookings}

    @invariant()
    def preflight_names_the_models_reasons(self) -> None:
        for session in self._waiting():
            pre = expect(self.tech.get(f"/api/v1/sessions/{session.id}/preflight"), 200)
            codes = {b["code"] for b in pre["blockers"]}
            expected = self.world.blockers(session)
            assert codes == expected, f"session {session.id}: preflight says {sorted(codes)}, model {sorted(expected)}"


def test_no_start_while_a_gate_says_no(app: FastAPI) -> None:
    """Random clinic days through the API: the device is programmed exactly when every gate is clear."""
    run_state_machine_as_test(
        lambda: InterlockMachine(app),  # type: ignore[arg-type]  # "anything which returns an instance"
        settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, derandomize=True, deadline=None,
                          database=None, suppress_health_check=[HealthCheck.too_slow]),
    )
