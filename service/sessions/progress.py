"""Live progress of a session as server-sent events, read from the database so any process can serve it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import select

from service.core.errors import NotFound
from service.core.read_scope import read_scope
from service.models.sessions import ENDED, ChairStatus, TreatmentSession

POLL_S = 0.5
MAX_STREAM_S = 4 * 3600


def snapshot(engine: Engine, clinic_id: int, session_id: int) -> dict[str, Any] | None:
    """Pulses of planned, train n of N, time left, coil temperature, device state.

    Read in a read-only transaction: a stream looks twice a second for as long as a session runs, and on SQLite a
    write transaction would queue each look for the process's one writer (and hold it up meanwhile).
    """
    with read_scope(engine) as s:
        ts = s.exec(select(TreatmentSession).where(
            TreatmentSession.id == session_id, TreatmentSession.clinic_id == clinic_id)).first()
        if ts is None:
            return None
        chair = s.get(ChairStatus, ts.chair_id)
        return _progress(ts, chair)


def _progress(ts: TreatmentSession, chair: ChairStatus | None) -> dict[str, Any]:
    planned = ts.pulses_planned or 0
    trains = ts.trains_planned or 0
    remaining_trains = max(0, trains - ts.trains_delivered)
    train_s = (ts.pulses_per_train or 0) / (ts.burst_pulses or 1) / ts.frequency_hz if ts.frequency_hz else 0
    iti = ts.iti_s or 0
    if ts.current_train and ts.pulses_per_train:
        # Inside a train: what is left of it (by its pulses so far), then an interval before each later train.
        done = max(0, ts.live_pulses - ts.pulses_delivered) / ts.pulses_per_train
        time_left = train_s * max(0.0, 1 - done) + max(0, remaining_trains - 1) * (iti + train_s)
    elif ts.trains_delivered:
        # Between trains: an interval before each remaining train (the one just ended opened the first).
        time_left = remaining_trains * (iti + train_s)
    else:
        time_left = remaining_trains * train_s + max(0, remaining_trains - 1) * iti
    return {
        "session_id": ts.id, "status": ts.status, "pulses_delivered": ts.live_pulses, "pulses_planned": planned,
        "percent": round(100 * ts.live_pulses / planned, 1) if planned else 0.0,
        "train": ts.current_train or min(ts.trains_delivered + (0 if ts.status in ENDED else 1), trains),
        "trains_planned": trains, "trains_delivered": ts.trains_delivered,
        "seconds_left": round(time_left) if ts.status not in ENDED else 0,
        # The chair's latest heartbeat, else the hottest the device reported during this session.
        "coil_temp_c": chair.coil_temp_c if chair and chair.coil_temp_c is not None else ts.max_coil_temp_c,
        "device_state": chair.state if chair else None, "end_reason": ts.end_reason,
    }


async def stream(request: Request, clinic_id: int, session_id: int) -> AsyncIterator[str]:
    """Send a snapshot whenever it changes; end when the session ends or the client leaves."""
    engine = request.app.state.engine
    first = await to_thread.run_sync(snapshot, engine, clinic_id, session_id)
    if first is None:
        raise NotFound(f"session {session_id} not found")
    return _events(request, engine, clinic_id, session_id, first)


async def _events(request: Request, engine: Engine, clinic_id: int, session_id: int,
                  current: dict[str, Any]) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    waited = 0.0
    while waited < MAX_STREAM_S:
        if current != last:
            yield f"event: progress\ndata: {json.dumps(current)}\n\n"
            last = current
        if current["status"] in {s.value for s in ENDED} or await request.is_disconnected():
            return
        await asyncio.sleep(POLL_S)
        waited += POLL_S
        latest: dict[str, Any] | None = await to_thread.run_sync(snapshot, engine, clinic_id, session_id)
        current = latest or current
