"""Medication history endpoints: record, list, amend (with a reason). There is no delete."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ClinicalUser, Id, NowDep, SessionDep, read_only
from service.medications import service
from service.medications.schemas import (
    MedicationChangeAmend,
    MedicationChangeCreate,
    MedicationChangePublic,
    MedicationTrialAmend,
    MedicationTrialCreate,
    MedicationTrialPublic,
    PsychotherapyTrialAmend,
    PsychotherapyTrialCreate,
    PsychotherapyTrialPublic,
)
from service.models.medications import MedicationChange, MedicationTrial, PsychotherapyTrial
from service.records import clinic_day

router = APIRouter(prefix="/api/v1", tags=["medications"])
PATIENT = "/patients/{patient_id}"


@router.post(PATIENT + "/medication-trials", status_code=201, response_model=MedicationTrialPublic)
def add_medication_trial(
    patient_id: Id, body: MedicationTrialCreate, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Record an antidepressant or augmentation trial of the patient's episode."""
    row = service.create(session, who, patient_id, body, now)
    assert isinstance(row, MedicationTrial)
    return service.with_assessments([row], clinic_day.clinic_today(session, who.clinic_id, now))[0]


@router.get(PATIENT + "/medication-trials", response_model=list[MedicationTrialPublic])
@read_only
def list_medication_trials(patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """The patient's medication trials, each with its adequacy verdict and reasons."""
    rows = service.history(session, who, MedicationTrial, patient_id, now)
    return service.with_assessments(rows, clinic_day.clinic_today(session, who.clinic_id, now))


@router.patch("/medication-trials/{trial_id}", response_model=MedicationTrialPublic)
def amend_medication_trial(
    trial_id: Id, body: MedicationTrialAmend, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Amend a medication trial, with a reason (void it with entered_in_error)."""
    row = service.amend(session, who, MedicationTrial, trial_id, body, now)
    return service.with_assessments([row], clinic_day.clinic_today(session, who.clinic_id, now))[0]


@router.post(PATIENT + "/psychotherapy-trials", status_code=201, response_model=PsychotherapyTrialPublic)
def add_psychotherapy_trial(
    patient_id: Id, body: PsychotherapyTrialCreate, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Record a psychotherapy trial of the patient's episode."""
    return service.create(session, who, patient_id, body, now)


@router.get(PATIENT + "/psychotherapy-trials", response_model=list[PsychotherapyTrialPublic])
@read_only
def list_psychotherapy_trials(patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """The patient's psychotherapy trials."""
    return service.history(session, who, PsychotherapyTrial, patient_id, now)


@router.patch("/psychotherapy-trials/{trial_id}", response_model=PsychotherapyTrialPublic)
def amend_psychotherapy_trial(
    trial_id: Id, body: PsychotherapyTrialAmend, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Amend a psychotherapy trial, with a reason."""
    return service.amend(session, who, PsychotherapyTrial, trial_id, body, now)


@router.post(PATIENT + "/medication-changes", status_code=201, response_model=MedicationChangePublic)
def add_medication_change(
    patient_id: Id, body: MedicationChangeCreate, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Record a start, stop or dose change of a current medication (re-screen; CNS-active: re-determine MT)."""
    return service.create(session, who, patient_id, body, now)


@router.get(PATIENT + "/medication-changes", response_model=list[MedicationChangePublic])
@read_only
def list_medication_changes(patient_id: Id, who: ClinicalUser, session: SessionDep, now: NowDep) -> object:
    """The patient's current-medication changes."""
    return service.history(session, who, MedicationChange, patient_id, now)


@router.patch("/medication-changes/{change_id}", response_model=MedicationChangePublic)
def amend_medication_change(
    change_id: Id, body: MedicationChangeAmend, who: ClinicalUser, session: SessionDep, now: NowDep
) -> object:
    """Amend a medication change, with a reason."""
    return service.amend(session, who, MedicationChange, change_id, body, now)
