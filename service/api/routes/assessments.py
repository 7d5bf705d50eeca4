"""Assessment and suicide-risk alert endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import ClinicalUser, Id, NowDep, PsychiatristUser, SessionDep, read_only
from service.assessments import service
from service.assessments.schemas import AlertPublic, AlertResponse, AlertStatus, AssessmentCreate, AssessmentPublic

router = APIRouter(prefix="/api/v1", tags=["assessments"])


@router.post("/patients/{patient_id}/assessments", status_code=201, response_model=AssessmentPublic)
def record_assessment(
    patient_id: Id, body: AssessmentCreate, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Score and store a rating scale; answers with total, severity, change from baseline and alerts."""
    return service.public(session, [service.create(session, who, patient_id, body, now)])[0]


@router.get("/patients/{patient_id}/assessments", response_model=list[AssessmentPublic])
@read_only
def list_assessments(
    patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep,
    instrument: Annotated[str | None, Query(max_length=20)] = None,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> object:
    """The patient's rating-scale trajectory, oldest first."""
    rows = service.history(session, who, patient_id, now, instrument=instrument, course_id=course_id)
    return service.public(session, rows)


@router.get("/alerts", response_model=list[AlertPublic])
def list_alerts(
    who: ClinicalUser, session: SessionDep, now: NowDep, status: AlertStatus | None = None
) -> object:
    """The clinic's suicide-risk alerts (status=open: the psychiatrist's queue)."""
    return service.alerts(session, who, now, status=status.value if status else None)


@router.post("/alerts/{alert_id}/response", response_model=AlertPublic)
def respond_to_alert(
    alert_id: Id, body: AlertResponse, who: PsychiatristUser, session: SessionDep, now: NowDep
) -> object:
    """Record the psychiatrist's response to a suicide-risk alert (closes it)."""
    return service.respond(session, who, alert_id, body, now)
