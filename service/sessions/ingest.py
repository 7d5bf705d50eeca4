"""Store delivery events exactly once and fold each new one into its session record.

Idempotency: ``(device, device_session, seq)`` is unique; an insert that hits an existing key changes
nothing and is counted as a duplicate, so an agent may resend a batch as often as it likes, from any
service process. Only the transaction that inserted an event applies it to the session, under a
row lock on the session, so two processes never fold the same event twice or lose an update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from service.audit import service as audit
from service.auth.principal import Principal
from service.bookings.models import Booking
from service.core.clock import as_utc
from service.core.errors import Unprocessable
from service.sessions.models import DeliveryEventRow, SessionStatus, SessionTrain, TreatmentSession
from service.sessions.schemas import EventIn, IngestResult

ENDED = {SessionStatus.completed.value, SessionStatus.interrupted.value, SessionStatus.aborted.value}


def ingest(session: Session, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    """Insert each event once; apply the new ones to their sessions."""
    sessions = _sessions_of(session, who.clinic_id, events)
    accepted = 0
    for i, event in enumerate(events):
        if event.session_id is not None and event.session_id not in sessions:
            raise Unprocessable(f"events[{i}].session_id", f"session {event.session_id} not found in this clinic")
        if not _insert_once(session, who.clinic_id, event, now):
            continue
        accepted += 1
        if event.session_id is not None:
            _apply(session, who, sessions[event.session_id], event, now)
    return IngestResult(accepted=accepted, duplicates=len(events) - accepted)


def _sessions_of(session: Session, clinic_id: int, events: list[EventIn]) -> dict[int, TreatmentSession]:
    ids = sorted({e.session_id for e in events if e.session_id is not None})
    if not ids:
        return {}
    # Locked in id order, so two concurrent batches cannot deadlock on each other.
    rows = session.exec(
        select(TreatmentSession)
        .where(col(TreatmentSession.id).in_(ids), TreatmentSession.clinic_id == clinic_id)
        .order_by(col(TreatmentSession.id))
        .with_for_update()
    ).all()
    return {r.id or 0: r for r in rows}


def _insert_once(session: Session, clinic_id: int, event: EventIn, now: datetime) -> bool:
    values = {
        "clinic_id": clinic_id, "session_id": event.session_id, "device": event.device,
        "device_session": event.device_session, "seq": event.seq, "kind": event.kind,
        "at": as_utc(event.at), "received_at": now, "payload": event.payload,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(DeliveryEventRow).values(**values)
        .on_conflict_do_nothing(index_elements=["device", "device_session", "seq"])
        .returning(col(DeliveryEventRow.id))
    )
    return session.execute(stmt).first() is not None


def _apply(session: Session, who: Principal, ts: TreatmentSession, event: EventIn, now: datetime) -> None:
    handler = _HANDLERS.get(event.kind)
    if handler is not None:
        handler(session, who, ts, event, now)
    ts.updated_at = now
    session.add(ts)


def _run_started(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    device = e.payload.get("device") or {}
    ts.current_run = e.device_session
    ts.runs += 1
    ts.device_model = device.get("model") or ts.device_model
    ts.device_serial = device.get("serial") or ts.device_serial
    ts.device_firmware = device.get("firmware") or ts.device_firmware
    if ts.status not in ENDED:
        ts.status = SessionStatus.programming.value


def _programmed(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    ts.programmed = e.payload.get("parameters")
    if ts.status == SessionStatus.programming.value:
        ts.status = SessionStatus.ready.value
        audit.record(session, who.actor, at=now, action="device_programmed", entity="treatment_session",
                     entity_id=ts.id, patient_id=ts.patient_id, new={"programmed": ts.programmed})


def _train_started(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    train = int(e.payload.get("train", 0))
    if ts.status not in ENDED:
        ts.status = SessionStatus.delivering.value
    ts.current_train = train
    row = _train_row(session, ts, e.device_session, train)
    row.planned_pulses = e.payload.get("planned_pulses") or ts.pulses_per_train
    row.started_at = as_utc(e.at)
    session.add(row)


def _pulses(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    train = e.payload.get("train")
    if train is None:
        return
    row = _train_row(session, ts, e.device_session, int(train))
    if row.ended_at is None:
        row.delivered_pulses += int(e.payload.get("count", 0))
        session.add(row)
        ts.live_pulses = ts.pulses_delivered + row.delivered_pulses


def _train_ended(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    row = _train_row(session, ts, e.device_session, int(e.payload.get("train", 0)))
    row.delivered_pulses = int(e.payload.get("delivered_pulses", 0))
    row.completed = bool(e.payload.get("completed"))
    row.estimated = bool(e.payload.get("estimated"))
    row.ended_at = as_utc(e.at)
    session.add(row)
    ts.pulses_delivered += row.delivered_pulses
    ts.trains_delivered += 1 if row.completed else 0
    ts.live_pulses = ts.pulses_delivered
    ts.current_train = None


def _coil_temp(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    celsius = e.payload.get("celsius")
    if isinstance(celsius, int | float):
        ts.max_coil_temp_c = max(ts.max_coil_temp_c or celsius, celsius)


def _fault(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    cause = f"{e.payload.get('error', 'fault')}: {e.payload.get('message', '')}".strip()
    ts.interruptions = [*(ts.interruptions or []), {"at": as_utc(e.at).isoformat(), "cause": cause}]


def _run_ended(session: Session, who: Principal, ts: TreatmentSession, e: EventIn, now: datetime) -> None:
    if ts.status in ENDED and ts.current_run != e.device_session:
        return
    reported = str(e.payload.get("status", "interrupted"))
    # Complete means every prescribed train was delivered in full (a resumed session repeats a partial train).
    complete = ts.trains_planned is not None and ts.trains_delivered >= ts.trains_planned
    status = SessionStatus.completed.value if reported == "completed" and complete else (
        SessionStatus.aborted.value if reported == "aborted" and ts.pulses_delivered == 0
        else SessionStatus.interrupted.value)
    reason = e.payload.get("reason")
    if status == SessionStatus.interrupted.value and reason:
        ts.interruptions = [*(ts.interruptions or []), {"at": as_utc(e.at).isoformat(), "cause": str(reason)}]
    old = {"status": ts.status}
    ts.status = status
    ts.end_reason = None if status == SessionStatus.completed.value else str(reason or "ended early")[:500]
    ts.ended_at = as_utc(e.at)
    ts.current_train = None
    booking = session.get(Booking, ts.booking_id)
    if booking is not None:
        booking.status = status
        booking.updated_at = now
        session.add(booking)
    audit.record(session, who.actor, at=now, action="session_ended", entity="treatment_session", entity_id=ts.id,
                 patient_id=ts.patient_id, old=old,
                 new={"status": status, "pulses_delivered": ts.pulses_delivered, "reason": ts.end_reason})


def _train_row(session: Session, ts: TreatmentSession, run: str, train: int) -> SessionTrain:
    row = session.exec(select(SessionTrain).where(
        SessionTrain.session_id == ts.id, SessionTrain.run == run, SessionTrain.train == train)).first()
    if row is None:
        row = SessionTrain(session_id=ts.id or 0, run=run, train=train)
        session.add(row)
        session.flush()
    return row


_HANDLERS: dict[str, Any] = {
    "run_started": _run_started, "programmed": _programmed, "train_started": _train_started,
    "pulses_delivered": _pulses, "train_ended": _train_ended, "coil_temperature": _coil_temp,
    "fault": _fault, "run_ended": _run_ended,
}
