"""Eligibility endpoints: criteria sets, the patient's eligibility profile, the decision per criteria set."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.api.deps import ClinicalUser, Id, NowDep, SessionDep, StaffUser, read_only
from service.eligibility import service
from service.eligibility.schemas import DecisionPublic, ProfilePublic, ProfileWrite

router = APIRouter(prefix="/api/v1", tags=["eligibility"])


@router.get("/criteria-sets")
@read_only
def list_criteria_sets(_: StaffUser) -> list[dict[str, Any]]:
    """The payer criteria sets (versioned data)."""
    return service.criteria_sets()


@router.get("/patients/{patient_id}/eligibility-profile", response_model=ProfilePublic)
def get_profile(patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """The patient's eligibility profile: exclusions assessed, ECT status, evaluation, documents."""
    return service.read_profile(session, who, patient_id, now)


@router.put("/patients/{patient_id}/eligibility-profile", response_model=ProfilePublic)
def put_profile(patient_id: Id, body: ProfileWrite, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """Create or replace the eligibility profile (replacing needs a reason)."""
    return service.write_profile(session, who, patient_id, body, now)


@router.get("/patients/{patient_id}/eligibility", response_model=DecisionPublic)
def get_eligibility(
    patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep,
    criteria: Annotated[str, Query(min_length=1, max_length=60, description="Criteria set id")],
) -> object:
    """Is the patient eligible under this criteria set? Each criterion with its evidence and what is missing."""
    return service.decide(session, who, patient_id, criteria, now)
