"""Protocol endpoints: catalog, validation of custom parameters, signed overrides."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from service.api.deps import ClinicalUser, NowDep, PsychiatristUser, SessionDep, StaffUser, read_only
from service.protocols import service
from service.protocols.schemas import OverrideCreate, OverridePublic, ProtocolParamsIn, ValidationPublic

router = APIRouter(prefix="/api/v1/protocols", tags=["protocols"])


@router.get("")
@read_only
def list_protocols(_: StaffUser) -> list[dict[str, Any]]:
    """The protocol catalog, each with derived timing checked against the stored values."""
    return service.catalog()


@router.post("/validate", response_model=ValidationPublic)
def validate_protocol(body: ProtocolParamsIn, _: ClinicalUser) -> object:
    """Check parameters: whitelisted cleared protocol, or within the IFCN table and the ITI rule."""
    result = service.validate(body)
    return {"ok": result.ok, "violations": [asdict(v) for v in result.violations]}


@router.post("/overrides", status_code=201, response_model=OverridePublic)
def sign_override(
    body: OverrideCreate, who: PsychiatristUser, session: SessionDep, now: NowDep, request: Request
) -> object:
    """A psychiatrist signs (password, printed name) an override for parameters outside the safety rules."""
    return service.sign_override(session, who, request.app.state.passwords, body, now)


@router.get("/overrides", response_model=list[OverridePublic])
def list_overrides(
    who: ClinicalUser, session: SessionDep, now: NowDep,
    patient_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> object:
    """Signed protocol overrides of the clinic (or of one patient)."""
    return service.overrides(session, who, now, patient_id=patient_id)
