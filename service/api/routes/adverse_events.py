"""Adverse-event endpoints: vocabulary, record, list, amend, psychiatrist clearance, reporting tasks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from service.adverse_events import reporting, service
from service.adverse_events.schemas import (
    AdverseEventAmend,
    AdverseEventCreate,
    AdverseEventPublic,
    ClearanceCreate,
    ReportingTaskPublic,
    TaskCompletion,
    TaskStatus,
)
from service.api.deps import ClinicalUser, Id, NowDep, PsychiatristUser, SessionDep, StaffUser, read_only

router = APIRouter(prefix="/api/v1", tags=["adverse events"])


def _facility(request: Request) -> str:
    return str(request.app.state.settings.mdr_facility_type)


@router.get("/adverse-event-vocabulary")
@read_only
def get_vocabulary(_: StaffUser) -> dict[str, Any]:
    """Terms, CTCAE grades, seriousness criteria, relatedness, actions and outcomes."""
    return reporting.vocabulary()


@router.post("/patients/{patient_id}/adverse-events", status_code=201, response_model=AdverseEventPublic)
def record_adverse_event(
    patient_id: Id, body: AdverseEventCreate, who: ClinicalUser, session: SessionDep, now: NowDep, request: Request
) -> object:
    """Record an adverse event; answers with its classification, reasons and any reporting task."""
    return service.public(session, [service.create(session, who, patient_id, body, _facility(request), now)])[0]


@router.get("/patients/{patient_id}/adverse-events", response_model=list[AdverseEventPublic])
@read_only
def list_adverse_events(patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """The patient's adverse events with their reporting tasks."""
    return service.public(session, service.history(session, who, patient_id, now))


@router.patch("/adverse-events/{event_id}", response_model=AdverseEventPublic)
def amend_adverse_event(
    event_id: Id, body: AdverseEventAmend, who: ClinicalUser, session: SessionDep, now: NowDep, request: Request
) -> object:
    """Amend an adverse event with a reason (it is re-classified)."""
    return service.public(session, [service.amend(session, who, event_id, body, _facility(request), now)])[0]


@router.post("/adverse-events/{event_id}/clearance", response_model=AdverseEventPublic)
def clear_adverse_event(
    event_id: Id, body: ClearanceCreate, who: PsychiatristUser, session: SessionDep, now: NowDep
) -> object:
    """A psychiatrist clears a serious event so the course may continue."""
    return service.public(session, [service.clear(session, who, event_id, body, now)])[0]


@router.get("/reporting-tasks", response_model=list[ReportingTaskPublic])
def list_reporting_tasks(
    who: ClinicalUser, session: SessionDep, now: NowDep, status: TaskStatus | None = None
) -> object:
    """The clinic's adverse-event reporting tasks, soonest due first."""
    return reporting.list_tasks(session, who, now, status.value if status else None)


@router.post("/reporting-tasks/{task_id}/completion", response_model=ReportingTaskPublic)
def complete_reporting_task(
    task_id: Id, body: TaskCompletion, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Record that the report was made."""
    return reporting.complete(session, who, task_id, body, now)
