"""Endpoints for chair agents (service accounts): heartbeat, command long-poll, event batches."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from sqlmodel import col, select

from service.api.deps import AgentCaller, AgentUser, NowDep, SessionDep, SettingsDep, StaffUser
from service.auth.principal import Principal
from service.core.db import session_scope
from service.core.read_scope import read_scope
from service.models.sessions import ChairStatus
from service.sessions import agent_service, lost_chairs
from service.sessions.ingest import ingest_batch_async
from service.sessions.schemas import ChairStatusPublic, CommandOut, EventBatch, HeartbeatIn, IngestResult

router = APIRouter(prefix="/api/v1", tags=["chair agent"])

POLL_INTERVAL_S = 0.2


@router.post("/agent/heartbeat", status_code=204)
def heartbeat(body: HeartbeatIn, who: AgentUser, session: SessionDep, settings: SettingsDep, now: NowDep) -> None:
    """The agent's view of its chair: device connected, model, serial, coil, temperature, state."""
    agent_service.heartbeat(session, who, body, now, settings.session_lost_after_s)


@router.post("/agent/events", response_model=IngestResult)
async def post_events(request: Request, body: EventBatch, who: AgentCaller, now: NowDep) -> object:
    """Store a batch of delivery events; each (device, device_session, seq) is stored once however often sent."""
    # Its own transaction, opened once the body is validated: the request's (SessionDep) would hold SQLite's writer
    # from before the body was validated until after the handler, across several event-loop turns.
    return await ingest_batch_async(request.app.state.engine, who, body.events, now)


@router.get("/agent/commands", response_model=list[CommandOut])
async def take_commands(
    request: Request,
    who: AgentCaller,
    chair_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to wait for a command (long poll)")] = 0,
) -> object:
    """Commands for this chair, each handed out once; waits up to ``wait`` seconds for one to appear."""
    deadline = time.monotonic() + wait
    while True:
        # A poll whose agent is gone (killed, restarted) must not take the next command: nobody would
        # ever read it, and the chair's new agent would never hear of it.
        if await request.is_disconnected():
            return []
        taken = await to_thread.run_sync(_take_when_due, request, who, chair_id, time.monotonic() >= deadline)
        if taken is not None:
            return taken
        await asyncio.sleep(POLL_INTERVAL_S)


def _take_when_due(request: Request, who: Principal, chair_id: int, last: bool) -> list[CommandOut] | None:
    """Take the chair's pending commands if there are any; None means wait on ([] on the last poll).

    Looking is a read: every agent polls five times a second, and only a poll that finds a command opens a write
    transaction (on SQLite, a turn of the process's one writer, which the looks would otherwise queue for).
    """
    engine = request.app.state.engine
    with read_scope(engine) as session:
        if not agent_service.has_pending(session, who.clinic_id, chair_id):
            if not last:
                return None
            agent_service.require_chair(session, who.clinic_id, chair_id)
            return []
    with session_scope(engine) as session:
        now = request.app.state.clock.now()
        taken = [CommandOut(id=c.id or 0, kind=c.kind, session_id=c.session_id, payload=c.payload)
                 for c in agent_service.take_commands(session, who, chair_id, now)]
    # Another poll of the chair may have taken them since the look: then wait on, as if none had come.
    return taken if taken or last else None


@router.get("/chair-status", response_model=list[ChairStatusPublic])
def chair_status(who: StaffUser, session: SessionDep, settings: SettingsDep, now: NowDep) -> object:
    """The last heartbeat of every chair agent in your clinic: connected, state, coil temperature, lost."""
    lost_after = settings.agent_lost_after_s
    lost_chairs.sweep(session, who.clinic_id, now, lost_after)
    rows = session.exec(select(ChairStatus).where(ChairStatus.clinic_id == who.clinic_id)
                        .order_by(col(ChairStatus.chair_id))).all()
    return [ChairStatusPublic.model_validate(r, from_attributes=True).model_copy(
        update={"lost": lost_chairs.is_lost(r, now, lost_after)}) for r in rows]
