"""Chairs whose agent went quiet: shown lost, and their live session ends 'interrupted' with that reason.

Swept on read (the chair list, a session record, the review queue, and before a start at the chair)
rather than by a scheduled job: whoever looks sees the truth at that moment, whichever process answers,
with no dependence on which process holds the scheduler's lock (none does under tests, one on SQLite),
and the rule runs on the service's own clock.
A session is quiet since the later of its chair's last heartbeat and its own last change, so a session
started on a chair whose agent was never seen is judged from its start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from service.audit.service import Actor
from service.core.clock import as_utc
from service.flags.service import raise_flag
from service.models.flags import FlagKind
from service.models.sessions import LIVE, ChairStatus, SessionStatus, TreatmentSession
from service.sessions.service import finish


def is_lost(status: ChairStatus | None, now: datetime, lost_after_s: float) -> bool:
    """A chair is lost when its agent has not heartbeat for ``lost_after_s`` (never seen is not lost)."""
    return status is not None and now - as_utc(status.seen_at) > timedelta(seconds=lost_after_s)


def sweep(session: Session, clinic_id: int, now: datetime, lost_after_s: float,
          chair_id: int | None = None) -> list[TreatmentSession]:
    """End the live sessions of the clinic's (or one chair's) quiet chairs; returns those ended."""
    query = select(TreatmentSession).where(
        TreatmentSession.clinic_id == clinic_id, col(TreatmentSession.status).in_([s.value for s in LIVE]))
    if chair_id is not None:
        query = query.where(TreatmentSession.chair_id == chair_id)
    live = session.exec(query.order_by(col(TreatmentSession.id))).all()
    if not live:
        return []
    ended = []
    limit = timedelta(seconds=lost_after_s)
    # Every live chair's last heartbeat in one query: the sweep runs before each review-queue listing.
    beats = {b.chair_id: b for b in session.exec(select(ChairStatus).where(
        col(ChairStatus.chair_id).in_(sorted({ts.chair_id for ts in live}))))}
    for ts in live:
        beat = beats.get(ts.chair_id)
        quiet_since = max(as_utc(ts.updated_at), as_utc(beat.seen_at) if beat else as_utc(ts.updated_at))
        if now - quiet_since <= limit:
            continue
        locked = session.exec(select(TreatmentSession).where(TreatmentSession.id == ts.id)
                              .with_for_update()).one()
        session.refresh(locked)
        if locked.status not in {s.value for s in LIVE}:
            continue  # another process ended it meanwhile
        _end(session, locked, now, lost_after_s, beat)
        ended.append(locked)
    return ended


def _end(session: Session, ts: TreatmentSession, now: datetime, lost_after_s: float,
         beat: ChairStatus | None) -> None:
    seen = f"last heard at {as_utc(beat.seen_at):%H:%M:%S} UTC" if beat else "never heard from"
    reason = (f"chair lost: its agent has not reported for over {lost_after_s:g} s ({seen}); "
              f"{ts.pulses_delivered} pulses were recorded before that, and the unit may have given more")
    finish(session, Actor(None, "system", ts.clinic_id), ts, SessionStatus.interrupted, reason[:500], now, now)
    raise_flag(session, clinic_id=ts.clinic_id, key=f"session_lost:{ts.id}:{ts.runs}", kind=FlagKind.session_lost,
               message=f"session {ts.id} at chair {ts.chair_id} ended interrupted: {reason}", now=now,
               patient_id=ts.patient_id, course_id=ts.course_id, booking_id=ts.booking_id)
