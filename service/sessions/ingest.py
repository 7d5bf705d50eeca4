"""Store delivery events exactly once and fold each new one into its session record.

Idempotency: ``(device, device_session, seq)`` is unique; an insert that hits an existing key changes
nothing and is counted as a duplicate, so an agent may resend a batch as often as it likes, from any
service process. Only the transaction that inserted an event applies it to the session, under a
row lock on the session, so two processes never fold the same event twice or lose an update.

On SQLite concurrent batches share a transaction (``service/core/group_commit.py``): a hundred chairs
reporting at once would otherwise queue for the one writer and pay an fsync each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from anyio import to_thread
from sqlalchemy import bindparam, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from service.audit import service as audit
from service.auth.principal import Principal
from service.core.clock import as_utc
from service.core.db import is_sqlite, session_scope
from service.core.errors import Unprocessable
from service.core.group_commit import group_commit
from service.models.sessions import DeliveryEventRow, SessionStatus, SessionTrain, TreatmentSession
from service.sessions import counting
from service.sessions.schemas import EventIn, IngestResult
from service.sessions.service import finish, send

ENDED = {SessionStatus.completed.value, SessionStatus.interrupted.value, SessionStatus.aborted.value}


def ingest_batch(engine: Engine, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    """``ingest`` in a committed transaction: on SQLite one shared with concurrent batches, else its own."""
    if is_sqlite(engine):
        return group_commit(engine).run(lambda connection: _ingest_joined(connection, who, events, now))
    with session_scope(engine) as session:
        return ingest(session, who, events, now)


async def ingest_batch_async(engine: Engine, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    """``ingest_batch`` for a caller on an event loop: on SQLite it waits for the group commit without a thread
    (the batch's work runs on the thread writing the group); elsewhere it runs on a worker thread."""
    if is_sqlite(engine):
        return await group_commit(engine).run_async(lambda connection: _ingest_joined(connection, who, events, now))
    return await to_thread.run_sync(ingest_batch, engine, who, events, now)


def _ingest_joined(connection: Connection, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    # The group's savepoint is this batch's transaction: the session flushes into it and leaves the commit (or,
    # if this batch fails, the rollback to the savepoint) to the group commit.
    with Session(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only") as session:
        result = ingest(session, who, events, now)
        session.flush()
    return result


def ingest(session: Session, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    """Insert each event once (one statement for the batch); apply the new ones to their sessions, in order."""
    sessions = _sessions_of(session, who.clinic_id, events)
    for i, event in enumerate(events):
        if event.session_id is not None and event.session_id not in sessions:
            raise Unprocessable(f"events[{i}].session_id", f"session {event.session_id} not found in this clinic")
    new = _insert_new(session, who.clinic_id, events, now)
    folding = _Fold(session, who, now)
    applied = []
    for e in events:  # each inserted key once: a batch may carry the same event twice, and only one was stored
        if e.session_id is not None and (key := (e.device, e.device_session, e.seq)) in new:
            new.discard(key)
            applied.append(e)
    accepted = len(applied) + len(new)  # events without a session are stored, and folded into nothing
    folding.load_trains(applied)
    for event in applied:
        folding.apply(sessions[event.session_id or 0], event)
    folding.flush()
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


def _insert_new(session: Session, clinic_id: int, events: list[EventIn], now: datetime) -> set[tuple[str, str, int]]:
    """Insert the batch, skipping keys already stored; return the keys it inserted."""
    values = [{
        "clinic_id": clinic_id, "session_id": e.session_id, "device": e.device, "device_session": e.device_session,
        "seq": e.seq, "kind": e.kind, "at": as_utc(e.at), "received_at": now, "payload": e.payload,
    } for e in events]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return {(d, ds, int(q)) for d, ds, q in connection.execute(_INSERT_NEW_RETURNING_KEYS, values).all()}
    # SQLite: this transaction holds the one writer from its BEGIN IMMEDIATE, so no other can store a key between
    # the read of the stored keys and the insert. A plain INSERT, unlike the dialect's ON CONFLICT form, is
    # compiled once and cached (SQLAlchemy cannot cache the dialect's), and needs no RETURNING.
    fresh: dict[tuple[str, str, int], dict[str, Any]] = {}
    for e, row in zip(events, values, strict=True):
        fresh.setdefault((e.device, e.device_session, e.seq), row)  # the first of a repeated key
    stored = connection.execute(_STORED_KEYS, {
        "devices": sorted({k[0] for k in fresh}), "runs": sorted({k[1] for k in fresh}),
        "seqs": sorted({k[2] for k in fresh})}).tuples()
    for key in stored:
        fresh.pop(key, None)
    if fresh:
        connection.execute(insert(_EVENTS), list(fresh.values()))
    return set(fresh)


_EVENTS = DeliveryEventRow.__table__  # type: ignore[attr-defined]
_INSERT_NEW_RETURNING_KEYS = (
    postgresql.insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=["device", "device_session", "seq"])
    .returning(_EVENTS.c.device, _EVENTS.c.device_session, _EVENTS.c.seq)
)
# The stored keys among the batch's, with perhaps a few more (any device x run x seq combination): the caller
# looks up only its own.
_STORED_KEYS = select(_EVENTS.c.device, _EVENTS.c.device_session, _EVENTS.c.seq).where(
    _EVENTS.c.device.in_(bindparam("devices", expanding=True)),
    _EVENTS.c.device_session.in_(bindparam("runs", expanding=True)),
    _EVENTS.c.seq.in_(bindparam("seqs", expanding=True)))


_STORED_TRAINS = select(SessionTrain).where(
    col(SessionTrain.session_id).in_(bindparam("sessions", expanding=True)),
    col(SessionTrain.run).in_(bindparam("runs", expanding=True)),
    col(SessionTrain.train).in_(bindparam("trains", expanding=True)))


_TRAIN_KINDS = {"train_started", "pulses_delivered", "train_ended"}


def _train_number(e: EventIn) -> int | None:
    """The train an event names: a pulse report may name none; a train's start or end without one is train 0."""
    if e.kind == "pulses_delivered":
        train = e.payload.get("train")
        return None if train is None else int(train)
    return int(e.payload.get("train", 0))


def _train_key(e: EventIn) -> tuple[int, str, int] | None:
    """The train row an event folds into (session, run, train), or None."""
    train = _train_number(e) if e.kind in _TRAIN_KINDS else None
    return None if e.session_id is None or train is None else (e.session_id, e.device_session, train)


class _Fold:
    """Folds new events into their session and train rows, in order; train rows are cached for the batch.

    Pulse reports, one per pulse and nearly every event, are tallied per train and applied to the rows in one step
    before anything else reads or changes their session: the same result as applying each in turn, without an ORM
    attribute change per pulse.
    """

    def __init__(self, session: Session, who: Principal, now: datetime) -> None:
        self.session, self.who, self.now = session, who, now
        self._trains: dict[tuple[int, str, int], SessionTrain] = {}
        self._touched: dict[int, TreatmentSession] = {}
        # Per session: pulses reported per train, ordered by each train's latest report.
        self._tally: dict[int, dict[tuple[str, int], int]] = {}

    def apply(self, ts: TreatmentSession, e: EventIn) -> None:
        if e.kind == "pulses_delivered":
            self._tally_pulses(ts, e)
        else:
            self._settle(ts)
            handler = getattr(self, f"_{e.kind}", None)
            if handler is not None:
                handler(ts, e)
        self._touched[ts.id or 0] = ts

    def flush(self) -> None:
        for ts in self._touched.values():
            self._settle(ts)
            ts.updated_at = self.now
        self.session.add_all([*self._touched.values(), *self._trains.values()])

    def load_trains(self, events: list[EventIn]) -> None:
        """Read, in one query before anything changes, the stored train rows these events will fold into.

        One query per batch rather than one per train, and none between changes (each would flush them first).
        """
        wanted = sorted({key for e in events if (key := _train_key(e)) is not None and key not in self._trains})
        if not wanted:
            return
        # One statement of a fixed shape (compiled once, then cached) for any set of trains; it may also return
        # other trains of these runs, which are ignored.
        rows = self.session.exec(_STORED_TRAINS, params={
            "sessions": sorted({k[0] for k in wanted}), "runs": sorted({k[1] for k in wanted}),
            "trains": sorted({k[2] for k in wanted})}).all()
        found = {(r.session_id, r.run, r.train): r for r in rows}
        for sid, run, train in wanted:
            self._trains[(sid, run, train)] = found.get((sid, run, train)) or SessionTrain(
                session_id=sid, run=run, train=train)

    def _train(self, ts: TreatmentSession, run: str, train: int) -> SessionTrain:
        key = (ts.id or 0, run, train)
        if key not in self._trains:  # not among the batch's loaded keys (none is, when called outside ``ingest``)
            row = self.session.exec(select(SessionTrain).where(
                SessionTrain.session_id == ts.id, SessionTrain.run == run, SessionTrain.train == train)).first()
            self._trains[key] = row or SessionTrain(session_id=ts.id or 0, run=run, train=train)
        return self._trains[key]

    def _audit(self, ts: TreatmentSession, action: str, **kwargs: Any) -> None:
        audit.record(self.session, self.who.actor, at=self.now, action=action, entity="treatment_session",
                     entity_id=ts.id, patient_id=ts.patient_id, **kwargs)

    def _run_started(self, ts: TreatmentSession, e: EventIn) -> None:
        device = e.payload.get("device") or {}
        ts.current_run = e.device_session
        ts.runs += 1
        ts.device_model = device.get("model") or ts.device_model
        ts.device_serial = device.get("serial") or ts.device_serial
        ts.device_firmware = device.get("firmware") or ts.device_firmware
        if ts.status not in ENDED:
            ts.status = SessionStatus.programming.value

    def _programmed(self, ts: TreatmentSession, e: EventIn) -> None:
        ts.programmed = e.payload.get("parameters")
        if ts.status == SessionStatus.programming.value:
            ts.status = SessionStatus.ready.value
            self._audit(ts, "device_programmed", new={"programmed": ts.programmed})

    def _train_started(self, ts: TreatmentSession, e: EventIn) -> None:
        train = _train_number(e) or 0
        if ts.status not in ENDED:
            ts.status = SessionStatus.delivering.value
        ts.current_train = train
        row = self._train(ts, e.device_session, train)
        row.planned_pulses = e.payload.get("planned_pulses") or ts.pulses_per_train
        row.started_at = as_utc(e.at)

    def _tally_pulses(self, ts: TreatmentSession, e: EventIn) -> None:
        train = _train_number(e)
        if train is None:
            return
        tally = self._tally.setdefault(ts.id or 0, {})
        key = (e.device_session, train)
        tally[key] = tally.pop(key, 0) + int(e.payload.get("count", 0))  # re-inserted: latest report last

    def _settle(self, ts: TreatmentSession) -> None:
        """Apply the session's tallied pulse reports: a train still open takes them, and the live count follows the
        train reported last, as it would have one report at a time."""
        for (run, train), count in self._tally.pop(ts.id or 0, {}).items():
            row = self._train(ts, run, train)
            if row.ended_at is None:
                row.delivered_pulses += count
                ts.live_pulses = ts.pulses_delivered + row.delivered_pulses

    def _train_ended(self, ts: TreatmentSession, e: EventIn) -> None:
        row = self._train(ts, e.device_session, _train_number(e) or 0)
        row.delivered_pulses = int(e.payload.get("delivered_pulses", 0))
        row.completed = bool(e.payload.get("completed"))
        row.estimated = bool(e.payload.get("estimated"))
        row.ended_at = as_utc(e.at)
        counting.add(ts, row.delivered_pulses, estimated=row.estimated)
        ts.trains_delivered += 1 if row.completed else 0
        ts.live_pulses = ts.pulses_delivered
        ts.current_train = None

    def _coil_temperature(self, ts: TreatmentSession, e: EventIn) -> None:
        celsius = e.payload.get("celsius")
        if isinstance(celsius, int | float):
            ts.max_coil_temp_c = max(ts.max_coil_temp_c or celsius, celsius)

    def _fault(self, ts: TreatmentSession, e: EventIn) -> None:
        cause = f"{e.payload.get('error', 'fault')}: {e.payload.get('message', '')}".strip()
        ts.interruptions = [*(ts.interruptions or []), {"at": as_utc(e.at).isoformat(), "cause": cause}]

    def _run_ended(self, ts: TreatmentSession, e: EventIn) -> None:
        if ts.status in ENDED and ts.current_run != e.device_session:
            return
        unit = counting.unit_counted(e.payload)
        self._close_open_trains(ts, e, counted_by_unit=unit is not None)
        if unit is not None:
            # Pulses the device counted while no agent recorded them (it outlived its agent): delivered all
            # the same, though no train can be named for them; the run's end reason says so.
            counting.add_unit_count(ts, unit, max(0, int(e.payload.get("unrecorded_pulses") or 0)))
        ts.live_pulses = ts.pulses_delivered
        reported = str(e.payload.get("status", "interrupted"))
        if reported == "completed" and ts.tail_pulses and ts.status not in ENDED:
            self._send_tail(ts)
            return
        # Complete means every prescribed train was delivered in full (a resumed session repeats a partial train),
        # or the prescription's pulses were (a resume's last train is shortened to what remained).
        complete = (ts.trains_planned is not None and ts.trains_delivered >= ts.trains_planned) or (
            ts.pulses_planned is not None and ts.pulses_delivered >= ts.pulses_planned)
        status = SessionStatus.completed if reported == "completed" and complete else (
            SessionStatus.aborted if reported == "aborted" and ts.pulses_delivered == 0
            else SessionStatus.interrupted)
        reason = e.payload.get("reason")
        ts.tail_pulses = None
        finish(self.session, self.who.actor, ts, status, str(reason) if reason else None, as_utc(e.at), self.now)
        if ts.pulses_estimated:
            counting.flag_estimate(self.session, ts, self.now)

    def _send_tail(self, ts: TreatmentSession) -> None:
        """The resumed whole trains are delivered: send the shortened last train the prescription still holds."""
        tail, ts.tail_pulses = ts.tail_pulses or 0, None
        ts.status = SessionStatus.programming.value
        send(self.session, ts, "deliver", {"mode": ts.mode, "protocol": counting.tail_payload(ts, tail)}, self.now)
        self._audit(ts, "resume_last_train", new={"pulses": tail})

    def _close_open_trains(self, ts: TreatmentSession, e: EventIn, *, counted_by_unit: bool) -> None:
        """A train whose end never came (the agent died during it): its pulses as the device reported them, and
        where no counter of the unit covers the run, an estimate from its start, rate and the run's end."""
        stored = self.session.exec(select(SessionTrain).where(
            SessionTrain.session_id == ts.id, SessionTrain.run == e.device_session,
            col(SessionTrain.ended_at).is_(None))).all()
        for row in stored:
            self._trains.setdefault((ts.id or 0, row.run, row.train), row)
        for (session_id, run, _), row in sorted(self._trains.items()):
            if session_id == ts.id and run == e.device_session and row.ended_at is None:
                row.ended_at = as_utc(e.at)
                row.completed = False
                counting.add(ts, row.delivered_pulses, estimated=False)
                if not counted_by_unit:
                    extra = counting.estimate_open_train(ts, row) - row.delivered_pulses
                    if extra > 0:
                        row.delivered_pulses += extra
                        row.estimated = True
                        counting.add(ts, extra, estimated=True)
