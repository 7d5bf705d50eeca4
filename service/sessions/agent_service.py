"""What chair agents do through the API: heartbeat, take commands, and (in ingest.py) report events."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.chairs import repository as chairs
from service.core.errors import NotFound
from service.models.sessions import ChairCommand, ChairStatus
from service.sessions.lost import end_lost_sessions
from service.sessions.schemas import HeartbeatIn


def heartbeat(session: Session, who: Principal, data: HeartbeatIn, now: datetime,
              lost_after_s: float) -> ChairStatus:
    """Record the agent's view of its chair and device; end sessions it lost (sessions/lost.py)."""
    if chairs.get_chair(session, who.clinic_id, data.chair_id) is None:
        raise NotFound(f"chair {data.chair_id} not found")
    status = session.get(ChairStatus, data.chair_id) or ChairStatus(
        chair_id=data.chair_id, clinic_id=who.clinic_id, seen_at=now)
    for name, value in data.model_dump(exclude={"chair_id"}).items():
        setattr(status, name, value)
    status.seen_at = now
    session.add(status)
    end_lost_sessions(session, who, data, now, lost_after_s)
    return status


def take_commands(session: Session, who: Principal, chair_id: int, now: datetime) -> list[ChairCommand]:
    """Pending commands for the chair, oldest first, marked taken (each is handed out once)."""
    require_chair(session, who.clinic_id, chair_id)
    rows = list(session.exec(
        select(ChairCommand)
        .where(ChairCommand.chair_id == chair_id, ChairCommand.clinic_id == who.clinic_id,
               ChairCommand.status == "pending")
        .order_by(col(ChairCommand.id))
        .with_for_update(skip_locked=True)
    ).all())
    for command in rows:
        command.status = "taken"
        command.taken_at = now
        session.add(command)
    return rows


def require_chair(session: Session, clinic_id: int, chair_id: int) -> None:
    """404 unless the chair is the clinic's."""
    if chairs.get_chair(session, clinic_id, chair_id) is None:
        raise NotFound(f"chair {chair_id} not found")


def has_pending(session: Session, clinic_id: int, chair_id: int) -> bool:
    """Cheap check used by the long poll before it takes anything."""
    return session.exec(
        select(ChairCommand.id).where(ChairCommand.chair_id == chair_id, ChairCommand.clinic_id == clinic_id,
                                      ChairCommand.status == "pending").limit(1)
    ).first() is not None
