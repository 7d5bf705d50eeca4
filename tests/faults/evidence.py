"""What the fault suites check after each delivery, from the records alone.

Exactly once: the agent's outbox is what the device reported; every event in it for the session must be
stored once, and nothing else. Truthful: the session's counts are what the stored events say, and its
status follows from them (completed only with every prescribed train delivered in full).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.models.bookings import Booking
from service.models.sessions import DeliveryEventRow, SessionTrain, TreatmentSession

Key = tuple[str, str, int]
ENDED = ("completed", "interrupted", "aborted")


def _outbox(path: Path, sql: str, session_id: int) -> list[tuple[Any, ...]]:
    if not path.exists():
        return []
    db = sqlite3.connect(path, timeout=30)
    try:
        return [tuple(r) for r in db.execute(sql, (session_id,))]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # the agent has not made its schema yet
            return []
        raise
    finally:
        db.close()


def outbox_keys(path: Path, session_id: int) -> list[Key]:
    """The session's events as the agent durably recorded them."""
    return [(d, ds, int(q)) for d, ds, q in _outbox(
        path, "SELECT device, device_session, seq FROM outbox WHERE session_id = ? ORDER BY id", session_id)]


def outbox_kinds(path: Path, session_id: int) -> list[tuple[str, bool]]:
    """(kind, sent) of the session's events in the order the agent recorded them."""
    return [(k, bool(s)) for k, s in _outbox(
        path, "SELECT kind, sent FROM outbox WHERE session_id = ? ORDER BY id", session_id)]


def stored_events(engine: Engine, session_id: int) -> list[DeliveryEventRow]:
    with Session(engine) as s:
        return list(s.exec(select(DeliveryEventRow).where(DeliveryEventRow.session_id == session_id)
                           .order_by(DeliveryEventRow.id)).all())  # type: ignore[arg-type]


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def session_row(engine: Engine, session_id: int) -> TreatmentSession:
    with Session(engine) as s:
        ts = s.get(TreatmentSession, session_id)
        assert ts is not None
        return ts


def wait_for_end(engine: Engine, session_id: int, timeout_s: float) -> TreatmentSession:
    wait_until(lambda: session_row(engine, session_id).status in ENDED, timeout_s, f"session {session_id} to end")
    return session_row(engine, session_id)


@dataclass
class Delivery:
    """The verdict on one delivered session."""

    session_id: int
    events: int  # in the agent's outbox
    lost: int  # in the outbox, not stored
    duplicated: int  # stored more than once
    foreign: int  # stored, not in the outbox
    lies: list[str] = field(default_factory=list)  # ways the session record disagrees with its evidence

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.foreign or self.lies)


def judge(engine: Engine, session_id: int, outbox: Path, drain_timeout_s: float = 60) -> Delivery:
    """Wait for the outbox to drain into the service, then compare the records (after the session ended)."""
    def drained() -> bool:
        return set(outbox_keys(outbox, session_id)) <= {
            (e.device, e.device_session, e.seq) for e in stored_events(engine, session_id)}

    with contextlib.suppress(AssertionError):  # what never arrived is counted as lost below
        wait_until(drained, drain_timeout_s, f"the outbox to drain for session {session_id}")
    sent = outbox_keys(outbox, session_id)
    rows = stored_events(engine, session_id)
    stored = Counter((e.device, e.device_session, e.seq) for e in rows)
    verdict = Delivery(session_id, len(sent), lost=len(set(sent) - set(stored)),
                       duplicated=sum(n - 1 for n in stored.values() if n > 1),
                       foreign=len(set(stored) - set(sent)))
    verdict.lies = lies(engine, session_id, rows)
    return verdict


def evidence_counts(rows: list[DeliveryEventRow]) -> tuple[int, int]:
    """(pulses, full trains) the stored events report, train by train, every run of the session.

    A train that ended reports its own count (exact, or the driver's estimate when it says so); one
    whose end never came (the agent died during it) counts the pulses the device reported for it; a run
    closed by a restarted agent adds what the device's own counter showed beyond the record.
    """
    exact, estimated, counted, full = reported_counts(rows)
    return exact + estimated + counted, full


def reported_counts(rows: list[DeliveryEventRow]) -> tuple[int, int, int, int]:
    """(exact pulses, pulses the driver estimated, pulses only the unit's counter saw, full trains) reported."""
    ended: dict[tuple[str, int], tuple[int, bool, bool]] = {}
    reported: Counter[tuple[str, int]] = Counter()
    counted = 0  # pulses the device's own counter showed beyond the record (it outlived its agent)
    for e in rows:
        payload = e.payload or {}
        if e.kind == "run_ended":
            counted += int(payload.get("unrecorded_pulses") or 0)
        elif e.kind == "train_ended":
            ended[(e.device_session, int(payload["train"]))] = (
                int(payload["delivered_pulses"]), bool(payload["completed"]), bool(payload.get("estimated")))
        elif e.kind == "pulses_delivered" and payload.get("train") is not None:
            reported[(e.device_session, int(payload["train"]))] += int(payload.get("count", 0))
    exact = sum(n for n, _, est in ended.values() if not est) + sum(
        n for k, n in reported.items() if k not in ended)
    estimated = sum(n for n, _, est in ended.values() if est)
    return exact, estimated, counted, sum(1 for _, done, _ in ended.values() if done)


def counted_by_device(rows: list[DeliveryEventRow]) -> int:
    """Pulses no train holds: those the device counted while no agent recorded them."""
    return sum(int((e.payload or {}).get("unrecorded_pulses") or 0) for e in rows if e.kind == "run_ended")


def lies(engine: Engine, session_id: int, rows: list[DeliveryEventRow]) -> list[str]:
    """Every way the session (and its booking) disagrees with the stored evidence."""
    with Session(engine) as s:
        ts = s.get(TreatmentSession, session_id)
        assert ts is not None
        booking = s.get(Booking, ts.booking_id)
        trains = list(s.exec(select(SessionTrain).where(SessionTrain.session_id == session_id)).all())
    found: list[str] = []
    if ts.status in ENDED:
        found += [f"train {t.train} of run {t.run} still open" for t in trains if t.ended_at is None]
        in_trains = sum(t.delivered_pulses for t in trains) + counted_by_device(rows)
        if in_trains != ts.pulses_delivered:
            found.append(f"its trains (and the device's count beyond them) hold {in_trains} pulses, "
                         f"the session says {ts.pulses_delivered}")
        if ts.live_pulses != ts.pulses_delivered:
            found.append(f"progress shows {ts.live_pulses} pulses, the record {ts.pulses_delivered}")
    exact, by_driver, counted, full_trains = reported_counts(rows)
    if ts.status not in ENDED:
        found.append(f"status is still {ts.status!r}")
    # Recorded is what the device reported exactly; estimated holds the driver's estimates and, for a train the
    # agent died in, the service's (flagged on the train); the unit's counter adds what no report named.
    if (ts.pulses_recorded, ts.pulses_unit_only, ts.trains_delivered) != (exact, counted, full_trains):
        found.append(f"says {ts.pulses_recorded} recorded + {ts.pulses_unit_only} counted by the unit / "
                     f"{ts.trains_delivered} trains, the device reported {exact} + {counted} / {full_trains}")
    if ts.pulses_delivered != ts.pulses_recorded + ts.pulses_estimated + ts.pulses_unit_only:
        found.append(f"delivered {ts.pulses_delivered} is not recorded {ts.pulses_recorded} + estimated "
                     f"{ts.pulses_estimated} + unit-counted {ts.pulses_unit_only}")
    flagged = sum(t.delivered_pulses for t in trains if t.estimated)
    if ts.pulses_estimated < by_driver or (ts.pulses_estimated and flagged < ts.pulses_estimated):
        found.append(f"estimates {ts.pulses_estimated} pulses; the driver estimated {by_driver}, "
                     f"the trains flagged estimated hold {flagged}")
    if ts.pulses_planned is not None and ts.pulses_delivered > ts.pulses_planned:
        found.append(f"delivered {ts.pulses_delivered} pulses, beyond the {ts.pulses_planned} prescribed")
    pulses = ts.pulses_delivered
    full = ts.trains_planned is not None and full_trains >= ts.trains_planned and pulses == ts.pulses_planned
    if ts.status == "completed" and not full:
        found.append(f"completed with {full_trains} of {ts.trains_planned} trains "
                     f"({pulses} of {ts.pulses_planned} pulses)")
    if ts.status in ("interrupted", "aborted") and not ts.end_reason:
        found.append(f"{ts.status} without a reason")
    if ts.status == "aborted" and exact + by_driver + counted:
        found.append(f"aborted (nothing delivered) but the device reported {exact + by_driver + counted} pulses")
    if booking is not None and ts.status in ENDED and booking.status != ts.status:
        found.append(f"session {ts.status} but its booking is {booking.status}")
    return found

