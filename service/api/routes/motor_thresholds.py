"""Motor-threshold endpoints: record a determination, history, freshness, Beam F3 calculator."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ClinicalUser, Id, NowDep, SessionDep, read_only
from service.motor_thresholds import service
from service.motor_thresholds.schemas import (
    BeamF3Public,
    BeamF3Request,
    FreshnessPublic,
    MotorThresholdCreate,
    MotorThresholdPublic,
)

router = APIRouter(prefix="/api/v1", tags=["motor thresholds"])


@router.post("/patients/{patient_id}/motor-thresholds", status_code=201, response_model=MotorThresholdPublic)
def record_motor_threshold(
    patient_id: Id, body: MotorThresholdCreate, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Record a motor-threshold determination (a new row; history is never overwritten)."""
    return service.create(session, who, patient_id, body, now)


@router.get("/patients/{patient_id}/motor-thresholds", response_model=list[MotorThresholdPublic])
@read_only
def list_motor_thresholds(patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """Every motor-threshold determination of the patient, oldest first."""
    return service.history(session, who, patient_id, now)


@router.get("/patients/{patient_id}/motor-threshold/freshness", response_model=FreshnessPublic)
def motor_threshold_freshness(patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """Whether the MT in force may be used today, and if not, why (re-determine: CPT 90869)."""
    fresh, latest = service.freshness(session, who, patient_id, now)
    return {"stale": fresh.stale, "reasons": list(fresh.reasons), "action": fresh.action,
            "redetermination_cpt": fresh.redetermination_cpt, "determination": latest}


@router.post("/calculators/beam-f3", response_model=BeamF3Public)
def beam_f3(body: BeamF3Request, _: ClinicalUser) -> object:
    """Beam F3 position (X/Y in cm) from tragus–tragus, nasion–inion and head circumference."""
    return service.beam_f3(body)
