"""Treatment sessions at the chair: check in, checklist, preflight, start, stop, resume, record, progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlmodel import col, select

from service.adverse_events import service as adverse_events
from service.adverse_events.schemas import AdverseEventCreate, AdverseEventPublic
from service.api.deps import (
    ClinicalUser,
    Id,
    NowDep,
    SessionDep,
    SettingsDep,
    StaffUser,
    read_only,
    require_roles_own_transaction,
)
from service.audit import service as audit
from service.auth.principal import Principal
from service.models.protocols import ProtocolOverride
from service.models.sessions import SessionTrain
from service.models.users import Role
from service.protocols.dose_gate import override_public
from service.sessions import counting, lost_chairs, progress, service
from service.sessions.schemas import (
    AcknowledgementIn,
    CheckInIn,
    ChecklistIn,
    SessionAdverseEventIn,
    SessionPublic,
    StopIn,
    TrainOut,
)

router = APIRouter(prefix="/api/v1", tags=["sessions"])


def _public(session: SessionDep, ts: object) -> SessionPublic:
    trains = session.exec(select(SessionTrain).where(SessionTrain.session_id == ts.id)  # type: ignore[attr-defined]
                          .order_by(col(SessionTrain.id))).all()
    override_id = ts.dose_override_id  # type: ignore[attr-defined]
    override = session.get(ProtocolOverride, override_id) if override_id else None
    return SessionPublic.model_validate(ts, from_attributes=True).model_copy(
        update={"trains": [TrainOut.model_validate(t, from_attributes=True) for t in trains],
                "dose_override": override_public(override) if override else None,
                "pulse_counts": counting.public(ts)})  # type: ignore[arg-type]


def _sweep_chair(session: SessionDep, who: Principal, session_id: int, lost_after_s: float, now: datetime) -> None:
    """A live session of a lost chair must not hold the chair against a start (sessions/lost_chairs.py)."""
    ts = service.get_or_404(session, who, session_id)
    lost_chairs.sweep(session, who.clinic_id, now, lost_after_s, chair_id=ts.chair_id)


@router.post("/bookings/{booking_id}/check-in", response_model=SessionPublic, status_code=201)
def check_in(booking_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep,
             body: CheckInIn | None = None) -> object:
    """The patient is in the chair: open the session record for this booking (its own day, in sequence,
    unless a psychiatrist gives ``override_reason``)."""
    reason = body.override_reason if body is not None else None
    return _public(session, service.check_in(session, who, booking_id, now, reason))


@router.get("/sessions/{session_id}", response_model=SessionPublic)
def get_session(session_id: Id, who: StaffUser, session: SessionDep, settings: SettingsDep, now: NowDep) -> object:
    """The session record: prescription, dose, trains, pulses (unit, recorded, estimated), interruptions."""
    ts = service.get_or_404(session, who, session_id)
    lost_chairs.sweep(session, who.clinic_id, now, settings.agent_lost_after_s, chair_id=ts.chair_id)
    audit.record(session, who.actor, at=now, action="read", entity="treatment_session", entity_id=ts.id,
                 patient_id=ts.patient_id)
    return _public(session, ts)


@router.put("/sessions/{session_id}/checklist", response_model=SessionPublic)
def put_checklist(session_id: Id, body: ChecklistIn, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """Answer the pre-session checklist (and record the coil position)."""
    return _public(session, service.record_checklist(session, who, session_id, body, now))


@router.get("/session-checklist")
@read_only
def get_checklist_questions(_: StaffUser) -> dict[str, Any]:
    """The current pre-session checklist (versioned data): each item, its blocking answer and what needs review."""
    return service.checklist_questions()


@router.post("/sessions/{session_id}/checklist/acknowledgements", response_model=SessionPublic)
def acknowledge_checklist_answer(session_id: Id, body: AcknowledgementIn, who: ClinicalUser, session: SessionDep,
                                 now: NowDep) -> object:
    """A clinician acknowledges, with a note, a checklist answer that must be reviewed before treating."""
    return _public(session, service.acknowledge(session, who, session_id, body, now))


@router.get("/sessions/{session_id}/preflight")
def get_preflight(session_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> dict[str, object]:
    """Every reason treatment is blocked now, in plain words, and the computed dose."""
    return service.preflight(session, who, session_id, now)


@router.post("/sessions/{session_id}/start", response_model=SessionPublic)
def start(session_id: Id, who: ClinicalUser, session: SessionDep, settings: SettingsDep, now: NowDep) -> object:
    """Run the gates, compute the dose and send the chair agent the program (409 with reasons if blocked)."""
    _sweep_chair(session, who, session_id, settings.agent_lost_after_s, now)
    return _public(session, service.start(session, who, session_id, now))


@router.post("/sessions/{session_id}/stop", response_model=SessionPublic)
def stop(session_id: Id, body: StopIn, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """Stop delivery now; the device is disarmed and the session ends interrupted."""
    return _public(session, service.stop(session, who, session_id, body.reason, now))


@router.post("/sessions/{session_id}/resume", response_model=SessionPublic)
def resume(session_id: Id, who: ClinicalUser, session: SessionDep, settings: SettingsDep, now: NowDep) -> object:
    """Deliver what remains of an interrupted session's prescription, in pulses (409 when nothing remains)."""
    _sweep_chair(session, who, session_id, settings.agent_lost_after_s, now)
    return _public(session, service.resume(session, who, session_id, now))


@router.get("/sessions/{session_id}/progress", response_class=StreamingResponse)
async def session_progress(
    session_id: Id, request: Request,
    who: Annotated[Principal, Depends(require_roles_own_transaction(Role.technician, Role.psychiatrist))],
) -> StreamingResponse:
    """Live progress (server-sent events): pulses of planned, train n of N, time left, coil temperature."""
    events = await progress.stream(request, who.clinic_id, session_id)
    return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.post("/sessions/{session_id}/adverse-events", status_code=201, response_model=AdverseEventPublic)
def session_adverse_event(
    session_id: Id, body: SessionAdverseEventIn, who: ClinicalUser, session: SessionDep, now: NowDep, request: Request,
) -> object:
    """One-tap adverse event at the chair: recorded against this session with its parameters snapshotted."""
    ts = service.get_or_404(session, who, session_id)
    data = AdverseEventCreate.model_validate(
        body.model_dump(exclude={"onset_at"}) | {"course_id": ts.course_id, "booking_id": ts.booking_id,
                                                 "onset_at": body.onset_at or now})
    event = adverse_events.create(session, who, ts.patient_id, data, request.app.state.settings.mdr_facility_type, now)
    return adverse_events.public(session, [event])[0]
