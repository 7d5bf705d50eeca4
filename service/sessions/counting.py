"""Counting a session's pulses: recorded, estimated, counted by the unit only, and which the record trusts.

The record trusts the unit's own counter where it keeps one (MagPro) for a run it covers; elsewhere the
pulses the agent recorded from the device's reports, plus an estimate (flagged) for a train whose end no
report gave (the agent died during it), and for the trains a unit that runs its program alone may have gone on
to give once nothing could stop it (its line lost). The estimate is an upper bound, so a resume budgeted on it
can never over-deliver (docs/devices.md, "Counting pulses").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.core.clock import as_utc
from service.flags.service import raise_flag
from service.models.flags import FlagKind
from service.models.sessions import SessionTrain, TreatmentSession


def add(ts: TreatmentSession, pulses: int, *, estimated: bool) -> None:
    """Count pulses into the session, recorded or estimated."""
    if estimated:
        ts.pulses_estimated += pulses
    else:
        ts.pulses_recorded += pulses
    ts.pulses_delivered += pulses
    _trust(ts)


def unit_counted(payload: dict[str, Any]) -> int | None:
    """Pulses the unit's own counter shows for a run, when the agent could read it at both ends."""
    count = payload.get("device_count")
    if not isinstance(count, dict):
        return None
    before, after = count.get("at_start"), count.get("after")
    if isinstance(before, int) and isinstance(after, int) and after >= before:
        return after - before
    return None


def add_unit_count(ts: TreatmentSession, unit: int, unrecorded: int) -> None:
    """A run the unit's counter covers: its count is kept, and what no report named is counted from it."""
    ts.unit_count = (ts.unit_count or 0) + unit
    ts.pulses_unit_only += unrecorded
    ts.pulses_delivered += unrecorded
    _trust(ts)


def _trust(ts: TreatmentSession) -> None:
    ts.pulses_trusted = "unit" if ts.unit_count is not None else "estimate" if ts.pulses_estimated else "recorded"


def estimate_open_train(ts: TreatmentSession, row: SessionTrain, *, end_bounds: bool) -> int:
    """Pulses an open train may have delivered, at most its planned count: every burst its rate fits between its
    start and the end of its run, the first at the start. ``end_bounds``: the run's end was dated after the unit
    confirmed a disarm (the restarted agent's), so the train had stopped by then; without it nothing bounds the
    train but its plan. The start is dated no later than the unit began it (the driver's stamp), so the estimate
    errs only towards more pulses counted, and so fewer given on a resume."""
    planned = row.planned_pulses or ts.pulses_per_train or 0
    if not end_bounds or row.started_at is None or row.ended_at is None:
        return planned
    seconds = (as_utc(row.ended_at) - as_utc(row.started_at)).total_seconds()
    if seconds <= 0:  # the two ends were stamped by different clocks: nothing bounds it but the plan
        return planned
    bursts = math.floor(seconds * float(ts.frequency_hz or 0)) + 1
    return min(planned, bursts * max(1, ts.burst_pulses or 1))


def run_program(run_started: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(pulses per train, trains) of a run's program, from its ``run_started`` payload; None where it does not say."""
    protocol = run_started.get("protocol")
    protocol = protocol if isinstance(protocol, dict) else {}
    per_train, trains = protocol.get("pulses_per_train"), protocol.get("trains")
    return (per_train if isinstance(per_train, int) and per_train > 0 else None,
            trains if isinstance(trains, int) and trains >= 0 else None)


def remaining(ts: TreatmentSession) -> int:
    """Pulses of the prescription not yet given, by the count the record trusts."""
    return max(0, (ts.pulses_planned or 0) - ts.pulses_delivered)


def split(ts: TreatmentSession, left: int) -> tuple[int, int]:
    """Whole trains and a shortened last train (whole bursts) that deliver at most ``left`` pulses."""
    per_train = ts.pulses_per_train or 1
    burst = max(1, ts.burst_pulses or 1)
    whole, rest = divmod(left, per_train)
    return whole, rest - rest % burst


def tail_payload(ts: TreatmentSession, pulses: int) -> dict[str, Any]:
    """The device program for one shortened train of ``pulses`` at the session's snapshotted dose."""
    burst = max(1, ts.burst_pulses or 1)
    return {"intensity_percent": ts.output_pct_mso or 0, "frequency_hz": ts.frequency_hz or 0,
            "pulses_per_train": pulses, "trains": 1, "inter_train_interval_s": ts.iti_s or 0,
            "burst_pulses": burst, "burst_ipi_ms": ts.burst_ipi_ms if burst > 1 else None}


def flag_estimate(session: Session, ts: TreatmentSession, now: datetime) -> None:
    """Put a session whose count holds an estimate in the review queue (once per session)."""
    raise_flag(session, clinic_id=ts.clinic_id, key=f"pulses_estimated:{ts.id}", kind=FlagKind.pulses_estimated,
               message=f"session {ts.id}: {ts.pulses_estimated} of its {ts.pulses_delivered} pulses are estimated "
                       "(the chair agent stopped or lost the unit during delivery, and no counter of the unit "
                       "tells what it gave)",
               now=now, patient_id=ts.patient_id, course_id=ts.course_id, booking_id=ts.booking_id)


def public(ts: TreatmentSession) -> dict[str, Any]:
    """The counts as the session record shows them."""
    return {"unit": ts.unit_count, "recorded": ts.pulses_recorded, "estimated": ts.pulses_estimated,
            "unit_only": ts.pulses_unit_only, "trusted": ts.pulses_trusted, "delivered": ts.pulses_delivered,
            "planned": ts.pulses_planned, "remaining": remaining(ts)}
