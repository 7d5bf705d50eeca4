"""Patient endpoints: create, read, list, amend. There is no delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import Id, NowDep, SessionDep, StaffUser, read_only
from service.patients import service
from service.patients.schemas import PatientAmend, PatientCreate, PatientPage, PatientPublic

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


@router.post("", status_code=201, response_model=PatientPublic)
def create_patient(body: PatientCreate, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """Register a patient in your clinic."""
    return service.create(session, who, body, now)


@router.get("", response_model=PatientPage)
@read_only
def list_patients(
    who: StaffUser, session: SessionDep, now: NowDep,
    q: Annotated[str | None, Query(max_length=100, description="Part of a name or MRN")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> object:
    """Your clinic's patients, by name."""
    rows, total = service.search(session, who, now, q=q, limit=limit, offset=offset)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.get("/{patient_id}", response_model=PatientPublic)
@read_only
def get_patient(patient_id: Id, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """One patient's record (the read is audited)."""
    return service.read(session, who, patient_id, now)


@router.patch("/{patient_id}", response_model=PatientPublic)
def amend_patient(patient_id: Id, body: PatientAmend, who: StaffUser, session: SessionDep, now: NowDep) -> object:
    """Amend fields of a patient's record, with a reason; old values stay in the audit trail."""
    return service.amend(session, who, patient_id, body, now)
