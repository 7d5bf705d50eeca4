"""The session lifecycle at the chair: check in → checklist → start (gates, dose) → delivery → end.

Start runs every gate and computes the dose before anything is sent; a refusal is a 409 naming each
reason, and no command reaches the chair. The chair agent's events (ingest.py) move the session on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from config import clinical_data
from service.audit import service as audit
from service.audit.service import Actor
from service.auth.principal import Principal
from service.bookings import service as bookings
from service.core import validation
from service.core.clock import as_utc
from service.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.models.bookings import Booking, BookingStatus
from service.models.chairs import Chair, Device
from service.models.courses import Course
from service.models.sessions import LIVE, ChairCommand, SessionStatus, TreatmentSession
from service.models.users import Role
from service.records import clinic_day
from service.rules import checklist as checklist_rules
from service.rules import protocols
from service.rules.errors import RuleInputError
from service.sessions import check_in_rules, counting, device_program, facts
from service.sessions.device_program import DevicePlan
from service.sessions.schemas import AcknowledgementIn, ChecklistIn

ENTITY = "treatment_session"
log = logging.getLogger("tmsops.sessions")


def get_or_404(session: Session, who: Principal, session_id: int) -> TreatmentSession:
    ts = session.exec(select(TreatmentSession).where(
        TreatmentSession.id == session_id, TreatmentSession.clinic_id == who.clinic_id)).first()
    if ts is None:
        raise NotFound(f"session {session_id} not found")
    return ts


def check_in(session: Session, who: Principal, booking_id: int, now: datetime,
             override_reason: str | None = None) -> TreatmentSession:
    """The patient is in the chair: open the session record for the booking.

    Only on the booking's own clinic day and in the course's order (no earlier booking still pending), unless a
    psychiatrist records why (kept on the session, audited, and put in the review queue).
    """
    booking = session.exec(select(Booking).where(
        Booking.id == booking_id, Booking.clinic_id == who.clinic_id).with_for_update()).first()
    if booking is None:
        raise NotFound(f"booking {booking_id} not found")
    existing = session.exec(select(TreatmentSession).where(TreatmentSession.booking_id == booking_id)).first()
    if existing is not None:
        return existing
    if booking.status != BookingStatus.booked.value:
        raise Conflict(f"booking {booking_id} is {booking.status}; only a booked session can be checked in")
    out_of_turn = check_in_rules.out_of_turn(session, booking, now)
    if out_of_turn and override_reason is None:
        raise Conflict(f"booking {booking_id} cannot be checked in now: {'; '.join(out_of_turn)}. A psychiatrist "
                       "may check it in with a reason (override_reason)", code="check_in_out_of_turn",
                       details={"reasons": out_of_turn})
    if override_reason is not None and who.role != Role.psychiatrist.value:
        raise Forbidden("override_reason: only a psychiatrist may check in out of day or sequence")
    ts = TreatmentSession(
        clinic_id=who.clinic_id, patient_id=booking.patient_id, course_id=booking.course_id, booking_id=booking_id,
        chair_id=booking.chair_id, device_id=booking.device_id, session_number=booking.sequence,
        technician_id=who.user_id, checked_in_at=now, updated_at=now,
        mode=_chair(session, booking.chair_id).mode,
        check_in_override=None if override_reason is None else {
            "reason": override_reason, "by": who.user_id, "at": now.isoformat(), "overrode": out_of_turn},
    )
    session.add(ts)
    session.flush()
    bookings.transition(session, who.actor, booking, BookingStatus.checked_in, "checked in at the chair", now)
    audit.record(session, who.actor, at=now, action="check_in", entity=ENTITY, entity_id=ts.id,
                 patient_id=ts.patient_id, new={"booking_id": booking_id, "chair_id": ts.chair_id,
                                                "override": ts.check_in_override}, reason=override_reason)
    if override_reason is not None:
        check_in_rules.flag_override(session, ts, out_of_turn, override_reason, now)
    return ts


def record_checklist(session: Session, who: Principal, session_id: int, body: ChecklistIn,
                     now: datetime) -> TreatmentSession:
    """Store the pre-session checklist; a complete one with no blocking answer readies the session."""
    ts = get_or_404(session, who, session_id)
    if ts.status not in (SessionStatus.checked_in.value, SessionStatus.ready_to_start.value):
        raise Conflict(f"session {session_id} is {ts.status}; the checklist is taken before starting")
    try:
        result = checklist_rules.evaluate(body.answers)
    except RuleInputError as exc:
        raise Unprocessable(exc.field, exc.message) from exc
    # An acknowledgement stands while its item is still answered yes: re-answering other items keeps it.
    kept = {k: v for k, v in (ts.checklist or {}).get("acknowledgements", {}).items()
            if checklist_rules.needs_review(k, body.answers)}
    ts.checklist = {"answers": body.answers, "version": result.version, "complete": result.complete,
                    "missing": list(result.missing), "blocking": list(result.blocking), "by": who.user_id,
                    "at": now.isoformat(), "review": [r.item_id for r in result.review], "acknowledgements": kept}
    if body.coil_position is not None:
        ts.coil_position = body.coil_position
    ready = result.complete and not result.blocking
    ts.status = SessionStatus.ready_to_start.value if ready else SessionStatus.checked_in.value
    ts.updated_at = now
    session.add(ts)
    audit.record(session, who.actor, at=now, action="checklist", entity=ENTITY, entity_id=ts.id,
                 patient_id=ts.patient_id, new={"checklist": ts.checklist, "coil_position": ts.coil_position})
    return ts


def acknowledge(session: Session, who: Principal, session_id: int, body: AcknowledgementIn,
                now: datetime) -> TreatmentSession:
    """A clinician acknowledges, with a note, a checklist answer that needs review before the session starts."""
    ts = get_or_404(session, who, session_id)
    if ts.status not in (SessionStatus.checked_in.value, SessionStatus.ready_to_start.value):
        raise Conflict(f"session {session_id} is {ts.status}; checklist answers are acknowledged before starting")
    answers = (ts.checklist or {}).get("answers", {})
    if not checklist_rules.needs_review(body.item_id, answers):
        raise Unprocessable("item_id", f"{body.item_id} is not a checklist answer of this session that needs review")
    acknowledged = dict((ts.checklist or {}).get("acknowledgements", {}))
    if body.item_id in acknowledged:
        raise validation.conflict("item_id", f"{body.item_id} is already acknowledged")
    acknowledged[body.item_id] = {"note": body.note, "by": who.user_id, "by_name": who.display_name,
                                  "at": now.isoformat()}
    ts.checklist = {**(ts.checklist or {}), "acknowledgements": acknowledged}
    ts.updated_at = now
    session.add(ts)
    audit.record(session, who.actor, at=now, action="checklist_acknowledge", entity=ENTITY, entity_id=ts.id,
                 patient_id=ts.patient_id, new={"item_id": body.item_id, "note": body.note})
    return ts


def checklist_questions() -> dict[str, Any]:
    """The current pre-session checklist: version, answers, items with what each answer does."""
    data = clinical_data.checklist()
    return {"version": data.version, "source": data.source, "answers": ["yes", "no"],
            "items": [i.model_dump() for i in data.items]}


def preflight(session: Session, who: Principal, session_id: int, now: datetime) -> dict[str, Any]:
    """What would happen on start: every blocking reason, and the dose (or why there is none)."""
    ts = get_or_404(session, who, session_id)
    return facts.preflight(session, ts, now)


def start(session: Session, who: Principal, session_id: int, now: datetime) -> TreatmentSession:
    """Run every gate, compute the dose, snapshot the prescription, and send the chair its command."""
    ts = get_or_404(session, who, session_id)
    if ts.status != SessionStatus.ready_to_start.value:
        raise Conflict(f"session {session_id} is {ts.status}; it starts once checked in with a complete checklist",
                       code="not_ready")
    check = facts.preflight(session, ts, now)
    if check["blockers"]:
        reasons = "; ".join(b["message"] for b in check["blockers"])
        raise Conflict(f"treatment is blocked: {reasons}", code="treatment_blocked", details=check["blockers"])
    if check["dose_error"]:
        error = check["dose_error"]
        raise Conflict(error["message"], code=error["code"], details=error.get("details"))
    _refuse_second_live(session, ts)
    course = session.get(Course, ts.course_id)
    assert course is not None
    device = facts.device_at_chair(session, ts)
    assert device is not None  # preflight gives no dose without one
    protocol = protocols.get(course.protocol_id)
    plan = device_program.plan(session, course, device.model, course.intensity_pct_mt, check["mt"]["value"],
                     check["mt"].get("depth_adjusted"))
    _snapshot(ts, course, device, protocol, plan, check, who, now)
    send(session, ts, "deliver", {"mode": ts.mode, "protocol": plan.payload()}, now)
    move_booking(session, who.actor, ts.booking_id, BookingStatus.in_progress, "treatment started", now)
    audit.record(session, who.actor, at=now, action="start", entity=ENTITY, entity_id=ts.id,
                 patient_id=ts.patient_id, new={"output_pct_mso": ts.output_pct_mso, "mt_pct_mso": ts.mt_pct_mso,
                                                "protocol_id": ts.protocol_id, "cpt_code": ts.cpt_code,
                                                "dose_override_id": ts.dose_override_id})
    return ts


def _snapshot(ts: TreatmentSession, course: Course, device: Device | None, protocol: Any, plan: DevicePlan,
              check: dict[str, Any], who: Principal, now: datetime) -> None:
    train = plan.train
    ts.protocol_id = protocol.id
    ts.frequency_hz, ts.pulses_per_train, ts.trains_planned = train.frequency_hz, train.pulses_per_train, train.trains
    ts.burst_pulses, ts.burst_ipi_ms, ts.iti_s = train.burst_pulses, train.burst_ipi_ms, train.inter_train_interval_s
    ts.intensity_pct_mt = course.intensity_pct_mt
    ts.mt_determination_id, ts.mt_pct_mso = check["mt"]["id"], check["mt"]["value"]
    ts.output_pct_mso, ts.dose_reasons = plan.output_pct_mso, list(plan.reasons)
    ts.dose_override_id = plan.override_id
    ts.pulses_planned = train.total_pulses
    if device is not None:
        ts.device_id = device.id  # the device at the chair now: a device swapped since booking is the one used
        ts.device_model, ts.device_serial, ts.device_firmware = device.model, device.serial, device.firmware
        ts.coil_model, ts.coil_serial = device.coil_model, device.coil_serial
    ts.psychiatrist_id = course.ordered_by
    ts.cpt_code = check["cpt_code"]
    ts.status = SessionStatus.programming.value
    ts.started_at = ts.started_at or now
    ts.updated_at = now


def stop(session: Session, who: Principal, session_id: int, reason: str, now: datetime) -> TreatmentSession:
    """Ask the chair agent to stop at once; the device is disarmed and the session ends interrupted."""
    ts = get_or_404(session, who, session_id)
    if ts.status not in {s.value for s in LIVE}:
        raise Conflict(f"session {session_id} is {ts.status}; only a session being delivered can be stopped")
    send(session, ts, "stop", {"reason": reason}, now)
    audit.record(session, who.actor, at=now, action="stop_requested", entity=ENTITY, entity_id=ts.id,
                 patient_id=ts.patient_id, reason=reason)
    return ts


def resume(session: Session, who: Principal, session_id: int, now: datetime) -> TreatmentSession:
    """Deliver what remains of an interrupted session's prescription, the same day, after the gates pass again.

    The budget is pulses, not trains: the prescription less every pulse the unit gave by the count the record
    trusts (the unit's own counter where it keeps one, else recorded plus estimated). Whole trains first, then
    one shortened last train; nothing beyond the prescription is ever sent.
    """
    ts = get_or_404(session, who, session_id)
    if ts.status != SessionStatus.interrupted.value:
        raise Conflict(f"session {session_id} is {ts.status}; only an interrupted session can be resumed")
    left = counting.remaining(ts)
    whole, tail = counting.split(ts, left)
    if whole + tail <= 0:
        raise Conflict(f"session {session_id} has nothing left to deliver: {ts.pulses_delivered} of its "
                       f"{ts.pulses_planned} prescribed pulses were given (counted by {ts.pulses_trusted}); a "
                       "resume never delivers beyond the prescription", code="prescription_delivered",
                       details=counting.public(ts))
    # The resumed trains count on the day the session started (resuming skips the daily limit), so they may
    # only be given that day; on a later day they would be a second dose beside that day's own session.
    started_on = clinic_day.local_now(session, ts.clinic_id, as_utc(ts.started_at or now)).date()
    if started_on != clinic_day.clinic_today(session, ts.clinic_id, now):
        raise Conflict(f"session {session_id} started on {started_on}; an interrupted session is resumed the same"
                       " day only: book and start a new session", code="resume_other_day")
    _refuse_second_live(session, ts)
    check = facts.preflight(session, ts, now, resuming=True)
    if check["blockers"]:
        reasons = "; ".join(b["message"] for b in check["blockers"])
        raise Conflict(f"treatment is blocked: {reasons}", code="treatment_blocked", details=check["blockers"])
    _check_resumed_dose(session, ts, check)
    protocol = protocols.get(ts.protocol_id or "")
    if whole:
        train = device_program.train_for(protocol, ts.output_pct_mso or 0, trains=whole)
        payload = DevicePlan(ts.output_pct_mso or 0, (), train).payload()
        ts.tail_pulses = tail or None
    else:
        payload, ts.tail_pulses = counting.tail_payload(ts, tail), None
    device = facts.device_at_chair(session, ts)
    device_program.check_program(device.model if device else "", payload)
    ts.status = SessionStatus.programming.value
    ts.ended_at, ts.end_reason, ts.updated_at = None, None, now
    send(session, ts, "deliver", {"mode": ts.mode, "protocol": payload}, now)
    move_booking(session, who.actor, ts.booking_id, BookingStatus.in_progress, "treatment resumed", now)
    audit.record(session, who.actor, at=now, action="resume", entity=ENTITY, entity_id=ts.id,
                 patient_id=ts.patient_id, new={"remaining_pulses": whole * (ts.pulses_per_train or 0) + tail,
                                                "whole_trains": whole, "last_train_pulses": tail or None,
                                                "counts": counting.public(ts)})
    return ts


def _check_resumed_dose(session: Session, ts: TreatmentSession, check: dict[str, Any]) -> None:
    """The rest of the session, planned by the same dose check as start with the MT in force at the chair now.

    The session has one dose on its record: if the MT for the chair's stimulator and coil (or the stimulator)
    changed since the start, the output for the rest would differ, and the resume is refused with both values.
    """
    if check["dose_error"]:
        error = check["dose_error"]
        raise Conflict(error["message"], code=error["code"], details=error.get("details"))
    course = session.get(Course, ts.course_id)
    device = facts.device_at_chair(session, ts)
    assert course is not None and device is not None  # preflight gives no dose without them
    plan = device_program.plan(session, course, device.model, ts.intensity_pct_mt or course.intensity_pct_mt,
                     check["mt"]["value"], check["mt"].get("depth_adjusted"))
    if plan.output_pct_mso != ts.output_pct_mso or device.id != ts.device_id:
        effective = (ts.output_pct_mso or 0) * 100 / check["mt"]["value"]
        raise Conflict(
            f"the session started at {ts.output_pct_mso}% of machine output on MT {ts.mt_pct_mso:g}%; the MT in "
            f"force for {device.model} {device.serial} is now {check['mt']['value']:g}%, so that output would be "
            f"{effective:.0f}% of MT and the prescription is now {plan.output_pct_mso}%: a session has one dose, "
            "so the remaining trains are not sent. Start a new session.",
            code="dose_changed",
            details={"started_output_pct_mso": ts.output_pct_mso, "output_pct_mso_now": plan.output_pct_mso,
                     "mt_pct_mso_at_start": ts.mt_pct_mso, "mt_pct_mso_now": check["mt"]["value"]})


def _refuse_second_live(session: Session, ts: TreatmentSession) -> None:
    """One live session per chair: its agent runs one delivery at a time, and a patient is in the chair."""
    other = session.exec(select(TreatmentSession).where(
        TreatmentSession.chair_id == ts.chair_id, TreatmentSession.id != ts.id,
        col(TreatmentSession.status).in_([s.value for s in LIVE]))).first()
    if other is not None:
        raise Conflict(f"chair {ts.chair_id} already has a live session ({other.id}, {other.status}); one session "
                       "is delivered at a chair at a time: end it first", code="chair_busy",
                       details={"session_id": other.id})


def send(session: Session, ts: TreatmentSession, kind: str, payload: dict[str, Any], now: datetime) -> None:
    """Queue a command for the chair agent; it becomes visible only when this transaction commits."""
    session.add(ts)
    session.add(ChairCommand(clinic_id=ts.clinic_id, chair_id=ts.chair_id, session_id=ts.id or 0, kind=kind,
                             payload=payload, created_at=now))


def finish(session: Session, actor: Actor, ts: TreatmentSession, status: SessionStatus, reason: str | None,
           at: datetime, now: datetime) -> None:
    """End a session: its status and reason (an interruption's cause is kept in its list), its booking, the
    audit row. The device's end report and the lost-session rule both end sessions this one way."""
    if status == SessionStatus.interrupted and reason:
        ts.interruptions = [*(ts.interruptions or []), {"at": at.isoformat(), "cause": reason}]
    old = {"status": ts.status}
    ts.status = status.value
    ts.end_reason = None if status == SessionStatus.completed else (reason or "ended early")[:500]
    ts.ended_at = at
    ts.current_train = None
    ts.updated_at = now
    session.add(ts)
    move_booking(session, actor, ts.booking_id, BookingStatus(status.value), ts.end_reason, now)
    audit.record(session, actor, at=now, action="session_ended", entity="treatment_session", entity_id=ts.id,
                 patient_id=ts.patient_id, old=old,
                 new={"status": ts.status, "pulses_delivered": ts.pulses_delivered, "reason": ts.end_reason})


def move_booking(session: Session, actor: Actor, booking_id: int, status: BookingStatus, reason: str | None,
                 now: datetime) -> None:
    """Follow the session's state on its booking (audited); a booking already there is left alone."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status == status.value:
        return
    try:
        bookings.transition(session, actor, booking, status, reason, now)
    except Conflict:
        # The delivery record is the truth; a booking moved elsewhere meanwhile (e.g. cancelled) must not
        # make the device's report unstorable. The mismatch stays visible on both records.
        log.warning("booking %s is %s; not moved to %s", booking_id, booking.status, status.value)


def _chair(session: Session, chair_id: int) -> Chair:
    chair = session.get(Chair, chair_id)
    assert chair is not None
    return chair
