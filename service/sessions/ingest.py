"""Store delivery events exactly once and fold each new one into its session record.

Idempotency: ``(device, device_session, seq)`` is unique; an insert that hits an existing key changes
nothing and is counted as a duplicate, so an agent may resend a batch as often as it likes, from any
service process. Only the transaction that inserted an event applies it to the session, under a
row lock on the session, so two processes never fold the same event twice or lose an update.

On SQLite concurrent batches share a transaction (``service/core/group_commit.py``): a hundred chairs
reporting at once would otherwise queue for the one writer and pay an fsync each. Batches queued together are also
folded together, as one batch of many callers (``ingest_many``): the statements of a batch cost nearly the same for
fifty events as for five hundred.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anyio import to_thread
from sqlalchemy import and_, bindparam, func
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from service.audit import service as audit
from service.auth.principal import Principal
from service.core.clock import as_utc
from service.core.db import is_sqlite, session_scope
from service.core.errors import Unprocessable
from service.core.group_commit import Joint, group_commit
from service.models.sessions import DeliveryEventRow, SessionStatus, SessionTrain, TreatmentSession
from service.sessions import counting
from service.sessions.schemas import MAX_EVENTS_PER_BATCH, EventIn, IngestResult
from service.sessions.service import finish, send

ENDED = {SessionStatus.completed.value, SessionStatus.interrupted.value, SessionStatus.aborted.value}


@dataclass(frozen=True)
class Call:
    """One caller's batch: who sent it, its events, and when it was received."""

    who: Principal
    events: list[EventIn]
    now: datetime


def ingest_batch(engine: Engine, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    """``ingest`` in a committed transaction: on SQLite one shared with concurrent batches, else its own."""
    if is_sqlite(engine):
        return group_commit(engine).run(_joint(Call(who, events, now)))
    with session_scope(engine) as session:
        return ingest(session, who, events, now)


async def ingest_batch_async(engine: Engine, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    """``ingest_batch`` for a caller on an event loop: on SQLite it waits for the group commit without a thread
    (the batch's work runs on the thread writing the group); elsewhere it runs on a worker thread."""
    if is_sqlite(engine):
        return await group_commit(engine).run_async(_joint(Call(who, events, now)))
    return await to_thread.run_sync(ingest_batch, engine, who, events, now)


def _joint(call: Call) -> Joint[Call, IngestResult]:
    # Joined calls hold at most as many events as one call may, so no statement is larger than one call's.
    return Joint(_ingest_joined, call, weight=len(call.events), most=MAX_EVENTS_PER_BATCH)


def _ingest_joined(connection: Connection, calls: list[Call]) -> list[IngestResult]:
    # The group's savepoint is this work's transaction: the session flushes into it and leaves the commit (or,
    # if the work fails, the rollback to the savepoint) to the group commit.
    with Session(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only") as session:
        results = ingest_many(session, calls)
        session.flush()
    return results


def ingest(session: Session, who: Principal, events: list[EventIn], now: datetime) -> IngestResult:
    """Insert each event once (one statement for the batch); apply the new ones to their sessions, in order."""
    return ingest_many(session, [Call(who, events, now)])[0]


def ingest_many(session: Session, calls: list[Call]) -> list[IngestResult]:
    """``ingest`` of several calls at once, with the same outcome as one after the other in the given order.

    A call naming a session that is not its clinic's is refused (for all of them: a caller joining calls runs each
    alone after such an error, so that only its own caller sees it).
    """
    sessions = _sessions_of(session, calls)
    for call in calls:
        for i, event in enumerate(call.events):
            if event.session_id is not None and (
                    (ts := sessions.get(event.session_id)) is None or ts.clinic_id != call.who.clinic_id):
                raise Unprocessable(f"events[{i}].session_id", f"session {event.session_id} not found in this clinic")
    new = _insert_new(session, calls)
    results, applied = [], []
    for call in calls:
        mine = []
        stored = 0  # events without a session are stored, and folded into nothing
        for e in call.events:  # each inserted key once: the same event may come twice, and only one was stored
            if (key := (e.device, e.device_session, e.seq)) in new:
                new.discard(key)
                if e.session_id is None:
                    stored += 1
                else:
                    mine.append(e)
        applied.append(mine)
        accepted = len(mine) + stored
        results.append(IngestResult(accepted=accepted, duplicates=len(call.events) - accepted))
    folding = _Fold(session)
    folding.load_trains([e for mine in applied for e in mine])
    for call, mine in zip(calls, applied, strict=True):
        folding.who, folding.now = call.who, call.now
        for event in mine:
            folding.apply(sessions[event.session_id or 0], event)
    folding.flush()
    return results


def _sessions_of(session: Session, calls: list[Call]) -> dict[int, TreatmentSession]:
    ids = sorted({e.session_id for call in calls for e in call.events if e.session_id is not None})
    if not ids:
        return {}
    # Locked in id order, so two concurrent batches cannot deadlock on each other.
    rows = session.exec(
        select(TreatmentSession)
        .where(col(TreatmentSession.id).in_(ids),
               col(TreatmentSession.clinic_id).in_(sorted({call.who.clinic_id for call in calls})))
        .order_by(col(TreatmentSession.id))
        .with_for_update()
    ).all()
    return {r.id or 0: r for r in rows}


def _insert_new(session: Session, calls: list[Call]) -> set[tuple[str, str, int]]:
    """Insert the calls' events, skipping keys already stored; return the keys it inserted."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        values = [{
            "clinic_id": call.who.clinic_id, "session_id": e.session_id, "device": e.device,
            "device_session": e.device_session, "seq": e.seq, "kind": e.kind, "at": as_utc(e.at),
            "received_at": call.now, "payload": e.payload,
        } for call in calls for e in call.events]
        return {(d, ds, int(q)) for d, ds, q in connection.execute(_INSERT_NEW_RETURNING_KEYS, values).all()}
    # SQLite: this transaction holds the one writer from its BEGIN IMMEDIATE, so no other can store a key between
    # the read of the stored keys and the insert, which needs no ON CONFLICT and no RETURNING.
    fresh: dict[tuple[str, str, int], tuple[Any, ...]] = {}
    for call in calls:
        received = sqlite_time(call.now)
        for e in call.events:
            fresh.setdefault((e.device, e.device_session, e.seq), (  # the first of a repeated key
                call.who.clinic_id, e.session_id, e.device, e.device_session, e.seq, e.kind, sqlite_time(e.at),
                received, json.dumps(e.payload)))
    for key in connection.execute(_STORED_KEYS_SQLITE, {"keys": json.dumps(list(fresh))}).tuples():
        fresh.pop(key, None)
    if fresh:
        connection.exec_driver_sql(_INSERT_SQLITE, list(fresh.values()))
    return set(fresh)


def sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy stores a ``UtcDateTime`` in SQLite (UTC, to the microsecond; compared as text).

    The event insert renders its rows itself: SQLAlchemy's bind processing, several calls per column of every row,
    was a tenth of the writer's time.
    """
    return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


_EVENTS = DeliveryEventRow.__table__  # type: ignore[attr-defined]
_INSERT_SQLITE = (
    "INSERT INTO delivery_event (clinic_id, session_id, device, device_session, seq, kind, at, received_at, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_NEW_RETURNING_KEYS = (
    postgresql.insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=["device", "device_session", "seq"])
    .returning(_EVENTS.c.device, _EVENTS.c.device_session, _EVENTS.c.seq)
)
# SQLite: rows whose key is one of a JSON array's [a, b, c] items, found by one probe of the unique index per
# item. One statement text for any number of keys, so it is compiled once; and unlike ``IN`` lists on each column,
# keys of many chairs do not multiply (ten devices x ten runs x five hundred numbers would be 50,000 probes), and
# unlike a row-value ``IN``, SQLite does not scan the index for it.
_KEYS = func.json_each(bindparam("keys")).table_valued("value").alias("keys")


def _key_part(i: int) -> Any:
    return func.json_extract(_KEYS.c.value, f"$[{i}]")


_STORED_KEYS_SQLITE = select(_EVENTS.c.device, _EVENTS.c.device_session, _EVENTS.c.seq).join_from(_KEYS, _EVENTS, and_(
    _EVENTS.c.device == _key_part(0), _EVENTS.c.device_session == _key_part(1), _EVENTS.c.seq == _key_part(2)))
_STORED_TRAINS_SQLITE = select(SessionTrain).join_from(_KEYS, SessionTrain, and_(
    col(SessionTrain.session_id) == _key_part(0), col(SessionTrain.run) == _key_part(1),
    col(SessionTrain.train) == _key_part(2)))
# PostgreSQL: one call at a time (its batches are not joined), so a chair's session and run, and the trains in it.
# The statement may also return other trains of these runs, which are ignored.
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

    def __init__(self, session: Session) -> None:
        self.session = session
        # The caller whose events are being applied, and when its call was received: set before each call's events.
        self.who: Principal
        self.now: datetime
        self._trains: dict[tuple[int, str, int], SessionTrain] = {}
        # Each changed session, and when the call that changed it last was received.
        self._touched: dict[int, tuple[TreatmentSession, datetime]] = {}
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
        self._touched[ts.id or 0] = ts, self.now

    def flush(self) -> None:
        for ts, at in self._touched.values():
            self._settle(ts)
            ts.updated_at = at
        self.session.add_all([*(ts for ts, _ in self._touched.values()), *self._trains.values()])

    def load_trains(self, events: list[EventIn]) -> None:
        """Read, in one query before anything changes, the stored train rows these events will fold into.

        One query per batch rather than one per train, and none between changes (each would flush them first).
        """
        wanted = sorted({key for e in events if (key := _train_key(e)) is not None and key not in self._trains})
        if not wanted:
            return
        # One statement of a fixed shape (compiled once, then cached) for any set of trains.
        if self.session.connection().dialect.name == "sqlite":
            rows = self.session.exec(_STORED_TRAINS_SQLITE, params={"keys": json.dumps(wanted)}).all()
        else:
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
        trains = self._close_open_trains(ts, e, counted_by_unit=unit is not None)
        if unit is not None:
            # Pulses the device counted while no agent recorded them (it outlived its agent): delivered all
            # the same, though no train can be named for them; the run's end reason says so.
            counting.add_unit_count(ts, unit, max(0, int(e.payload.get("unrecorded_pulses") or 0)))
        elif e.payload.get("unit_may_continue") is True:
            self._estimate_rest_of_run(ts, e, trains)
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

    def _close_open_trains(self, ts: TreatmentSession, e: EventIn, *, counted_by_unit: bool) -> list[SessionTrain]:
        """A train whose end never came (the agent died during it): its pulses as the device reported them, and
        where no counter of the unit covers the run, an estimate from its start, rate and the run's end. Returns
        every train of the run."""
        end_bounds = e.payload.get("disarmed") is True
        trains = self._run_trains(ts, e.device_session)
        for row in trains:
            if row.ended_at is None:
                row.ended_at = as_utc(e.at)
                row.completed = False
                counting.add(ts, row.delivered_pulses, estimated=False)
                if not counted_by_unit:
                    extra = counting.estimate_open_train(ts, row, end_bounds=end_bounds) - row.delivered_pulses
                    if extra > 0:
                        row.delivered_pulses += extra
                        row.estimated = True
                        counting.add(ts, extra, estimated=True)
        return trains

    def _run_trains(self, ts: TreatmentSession, run: str) -> list[SessionTrain]:
        """Every train of one run of the session, stored or of this batch, in train order."""
        for row in self.session.exec(select(SessionTrain).where(
                SessionTrain.session_id == ts.id, SessionTrain.run == run)).all():
            self._trains.setdefault((ts.id or 0, row.run, row.train), row)
        return [row for (sid, r, _), row in sorted(self._trains.items()) if sid == ts.id and r == run]

    def _estimate_rest_of_run(self, ts: TreatmentSession, e: EventIn, begun: list[SessionTrain]) -> None:
        """The unit runs its program on its own (a MagPro's sequence, or a protocol started at its console) and
        the run ended with nothing to say it stopped: the line to it was lost, or its disarm failed. It may go on
        to give every train of the run's program it had not begun: each is recorded as a train of its run,
        estimated whole (never beyond the prescription), so the record and a resume count them as given."""
        started = self.session.exec(select(DeliveryEventRow.payload).where(
            DeliveryEventRow.session_id == ts.id, DeliveryEventRow.device_session == e.device_session,
            DeliveryEventRow.kind == "run_started")).first() or {}
        per_train, trains = counting.run_program(started)
        per_train = per_train or ts.pulses_per_train or 0
        left = counting.remaining(ts)
        if per_train <= 0 or left <= 0:
            return
        # A run whose program is unknown could give anything the prescription still holds.
        to_come = -(-left // per_train) if trains is None else trains - len(begun)
        number = max((row.train for row in begun), default=0)
        for _ in range(to_come):
            pulses = min(per_train, left)
            if pulses <= 0:
                break
            number += 1
            self._trains[(ts.id or 0, e.device_session, number)] = SessionTrain(
                session_id=ts.id or 0, run=e.device_session, train=number, planned_pulses=per_train,
                delivered_pulses=pulses, estimated=True, ended_at=as_utc(e.at))
            counting.add(ts, pulses, estimated=True)
            left -= pulses
