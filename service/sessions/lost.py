"""Sessions whose start command was taken by an agent process that died before it recorded the run.

The agent writes ``run_started`` to its outbox only after it has the command; if it dies in between,
its next process has no run to close and nothing will ever move the session out of 'programming'.
The heartbeat is how we notice: the chair's agent is up, reports no (or another) active session and
nothing left to send, well after the command was handed out. The session then ends 'interrupted'
(resumable; nothing is re-sent to the chair on its own), with the reason, audited.

If the run was in fact recorded after all (its events were still on their way), the run's own
``run_ended`` re-opens nothing but sets the final status from the device's report (ingest.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.core.clock import as_utc
from service.models.sessions import LIVE, ChairCommand, SessionStatus, TreatmentSession
from service.sessions.schemas import HeartbeatIn
from service.sessions.service import finish


def end_lost_sessions(session: Session, who: Principal, beat: HeartbeatIn, now: datetime,
                      lost_after_s: float) -> list[TreatmentSession]:
    """End the chair's live sessions its agent no longer knows of (see the module docstring)."""
    if beat.outbox_unsent:  # unsent events may still start, advance or end a session
        return []
    query = select(TreatmentSession).where(
        TreatmentSession.clinic_id == who.clinic_id, TreatmentSession.chair_id == beat.chair_id,
        col(TreatmentSession.status).in_([s.value for s in LIVE]))
    if beat.active_session_id is not None:  # the one it is running is not ours to judge (nor to lock)
        query = query.where(TreatmentSession.id != beat.active_session_id)
    ended = []
    for ts in session.exec(query.order_by(col(TreatmentSession.id)).with_for_update()).all():
        taken_at = _start_taken_at(session, ts)
        if taken_at is None:  # still waiting for the agent to take it
            continue
        quiet_since = max(taken_at, as_utc(ts.updated_at))
        if now - quiet_since < timedelta(seconds=lost_after_s):
            continue
        _end(session, who, ts, now, lost_after_s)
        ended.append(ts)
    return ended


def _start_taken_at(session: Session, ts: TreatmentSession) -> datetime | None:
    """When the session's latest deliver command (start or resume) was handed to the agent, if it was."""
    command = session.exec(
        select(ChairCommand)
        .where(ChairCommand.session_id == ts.id, ChairCommand.kind == "deliver")
        .order_by(col(ChairCommand.id).desc())
        .limit(1)
    ).first()
    if command is None or command.status != "taken" or command.taken_at is None:
        return None
    return as_utc(command.taken_at)


def _end(session: Session, who: Principal, ts: TreatmentSession, now: datetime, lost_after_s: float) -> None:
    delivered = ("no delivery was reported" if ts.current_run is None
                 else f"{ts.pulses_delivered} pulses were reported before that")
    reason = (f"the chair agent lost this session: {lost_after_s:g} s after it took the start command it reports "
              f"no run of it and nothing left to send (it restarted); {delivered}")
    finish(session, who.actor, ts, SessionStatus.interrupted, reason[:500], now, now)
