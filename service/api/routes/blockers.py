"""The blockers endpoint: what blocks treatment of this patient today, and why."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.api.deps import ClinicalUser, Id, NowDep, SessionDep
from service.blockers import service

router = APIRouter(prefix="/api/v1", tags=["blockers"])


@router.get("/patients/{patient_id}/blockers")
def get_blockers(
    patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Defaults to the open course")] = None,
) -> dict[str, Any]:
    """What blocks treatment today, and why (screening, AEs, alerts, MT, course, authorization, spacing, checklist)."""
    return service.for_patient(session, who, patient_id, course_id, now)
