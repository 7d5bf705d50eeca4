"""Safety-screening endpoints: questionnaire, record a screen, read it, check unsure answers, clear findings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.api.deps import ClinicalUser, Id, NowDep, PsychiatristUser, SessionDep, StaffUser, read_only
from service.screenings import service
from service.screenings.schemas import CheckCreate, ClearanceCreate, ScreeningCreate, ScreeningPublic

router = APIRouter(prefix="/api/v1", tags=["screenings"])


@router.get("/screening-questionnaire")
@read_only
def get_questionnaire(_: StaffUser) -> dict[str, Any]:
    """The current safety-screening questionnaire (versioned data)."""
    return service.questionnaire()


@router.post("/patients/{patient_id}/screenings", status_code=201, response_model=ScreeningPublic)
def record_screening(
    patient_id: Id, body: ScreeningCreate, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Record a completed safety screen for a course; answers with absolute/relative findings and reasons."""
    return service.public(session, service.create(session, who, patient_id, body, now))


@router.get("/patients/{patient_id}/screenings", response_model=list[ScreeningPublic])
@read_only
def list_screenings(
    patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> object:
    """The patient's safety screens, oldest first."""
    return [service.public(session, s) for s in service.history(session, who, patient_id, course_id, now)]


@router.get("/screenings/{screening_id}", response_model=ScreeningPublic)
@read_only
def get_screening(screening_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """One safety screen with its verdict and whether it is still current."""
    return service.public(session, service.read(session, who, screening_id, now))


@router.post("/screenings/{screening_id}/clearances", status_code=201, response_model=ScreeningPublic)
def clear_finding(
    screening_id: Id, body: ClearanceCreate, who: PsychiatristUser, session: SessionDep, now: NowDep
) -> object:
    """A psychiatrist clears one relative contraindication, with the reason."""
    return service.public(session, service.clear(session, who, screening_id, body, now))


@router.post("/screenings/{screening_id}/checks", status_code=201, response_model=ScreeningPublic)
def check_unsure_answer(
    screening_id: Id, body: CheckCreate, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """A clinician records the checked yes/no for an item answered "unsure" (it counts as a yes until then)."""
    return service.public(session, service.check(session, who, screening_id, body, now))
