"""The patient's treatment history: medication trials (picked from the drug table, with the adequacy verdict shown
as the user types), psychotherapy trials and current-medication changes, each added or amended (with a reason)
through the API route that records it (app.js), and the amendment of the patient's own record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from config import clinical_data
from service.api.deps import Id, NowDep, SessionDep, SettingsDep
from service.audit import history as audit_history
from service.auth.principal import Principal
from service.medications import service as medications
from service.medications.schemas import ChangeKind, TherapyOutcome, TrialOutcome
from service.models.medications import MedicationChange, MedicationTrial, PsychotherapyTrial
from service.models.users import Role
from service.patients import service as patients
from service.patients.schemas import Sex
from service.records import clinic_day
from service.web.pages import page_roles, render

router = APIRouter(include_in_schema=False)
ClinicalPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist))]
StaffPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist, Role.admin))]
MODALITIES = ("CBT", "IPT", "behavioural activation", "psychodynamic", "problem-solving therapy", "MBCT")


def drug_table() -> dict[str, Any]:
    """The drug table as the page's script reads it: class, role, minimum effective dose and unit per drug."""
    table = clinical_data.medications()
    return {
        "min_weeks": table.default_min_trial_weeks,
        "cns_active_classes": list(table.cns_active_classes),
        "unknown_counts_as_cns": clinical_data.motor_threshold().freshness.unknown_drug_counts_as_cns_active,
        "drugs": {d.name: {"drug_class": d.drug_class, "role": d.role, "min_dose": d.min_effective_dose,
                           "unit": d.unit} for d in table.drugs},
    }


@router.get("/patients/{patient_id}/history")
def history_page(request: Request, patient_id: Id, me: ClinicalPage, session: SessionDep, settings: SettingsDep,
                 now: NowDep) -> Response:
    """Medication and psychotherapy trials and medication changes, with add forms and per-row amend forms."""
    patient = patients.get_or_404(session, me, patient_id)
    today = clinic_day.clinic_today(session, me.clinic_id, now)
    trials = medications.with_assessments(medications.history(session, me, MedicationTrial, patient_id, now), today)
    return render(
        request, "history.html", me, settings, p=patient, today=today, trials=trials,
        therapies=medications.history(session, me, PsychotherapyTrial, patient_id, now),
        changes=medications.history(session, me, MedicationChange, patient_id, now),
        table=drug_table(), drugs=sorted(clinical_data.medications().drugs, key=lambda d: d.name),
        classes=sorted(medications.known_classes()), trial_outcomes=list(TrialOutcome),
        therapy_outcomes=list(TherapyOutcome), change_kinds=list(ChangeKind), modalities=MODALITIES,
        page="patients",
    )


@router.get("/patients/{patient_id}/edit")
def patient_edit_form(request: Request, patient_id: Id, me: StaffPage, session: SessionDep,
                      settings: SettingsDep) -> Response:
    """Amend the patient's record: only the changed fields are sent, with the reason the record keeps."""
    patient = patients.get_or_404(session, me, patient_id)
    return render(request, "form_patient_edit.html", me, settings, p=patient, sexes=[s.value for s in Sex],
                  history=audit_history.amendments(session, me.clinic_id, "patient", patient_id),
                  tzname=clinic_day.clinic(session, me.clinic_id).timezone, page="patients")
