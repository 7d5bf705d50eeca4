"""Medication history rules: no future dates, stop after start, known drug classes; amendments audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlmodel import Session

from config import clinical_data
from service.auth.principal import Principal
from service.core import validation
from service.core.errors import NotFound, Unprocessable
from service.medications import repository
from service.medications.schemas import (
    MedicationChangeAmend,
    MedicationChangeCreate,
    MedicationTrialAmend,
    MedicationTrialCreate,
    PsychotherapyTrialAmend,
    PsychotherapyTrialCreate,
)
from service.models.medications import MedicationChange, MedicationTrial, PsychotherapyTrial
from service.patients import service as patients
from service.records import amendments, clinic_day
from service.rules import trials
from service.rules.motor_threshold import MedicationChange as RuleMedicationChange

ENTITIES = {MedicationTrial: "medication_trial", PsychotherapyTrial: "psychotherapy_trial",
            MedicationChange: "medication_change"}
Row = MedicationTrial | PsychotherapyTrial | MedicationChange
R = TypeVar("R", MedicationTrial, PsychotherapyTrial, MedicationChange)


def known_classes() -> set[str]:
    """Every drug class the medication table knows."""
    table = clinical_data.medications()
    return {d.drug_class for d in table.drugs} | set(table.antidepressant_classes) | set(table.cns_active_classes)


def _class_of(drug: str, given: str | None) -> str | None:
    """The drug table's class for a drug it lists (a different class in the request is refused by name);
    for a drug it does not list, the class the request gives, if the table knows that class."""
    entry = clinical_data.medications().drug(drug)
    if entry is not None:
        if given is not None and given != entry.drug_class:
            raise Unprocessable("drug_class", f"{entry.name} is {entry.drug_class} in the drug table, not {given!r}:"
                                " leave drug_class out or send the table's class")
        return entry.drug_class
    if given is not None and given not in known_classes():
        raise Unprocessable("drug_class", f"unknown class {given!r}; known: {', '.join(sorted(known_classes()))}")
    return given


def _unit_of(drug: str, given: str | None) -> str:
    """The drug table's dose unit for a drug it lists (another unit is refused: doses are compared in it)."""
    entry = clinical_data.medications().drug(drug)
    if entry is None or entry.unit is None:
        return given or "mg/day"
    if given is not None and given != entry.unit:
        raise Unprocessable("dose_unit", f"the drug table doses {entry.name} in {entry.unit}, not {given!r}:"
                            f" convert the dose to {entry.unit}")
    return entry.unit


def _cns_of(drug_class: str | None, given: bool | None) -> bool:
    """CNS activity follows the class (the drug table's for a listed drug); a contradicting flag is refused, since
    a false one would suppress the motor-threshold re-determination the table calls for."""
    derived = is_cns_active(drug_class)
    if given is not None and given != derived:
        what = f"class {drug_class}" if drug_class else "a drug of unknown class (counted as CNS-active by policy)"
        raise Unprocessable("cns_active", f"{what} is {'' if derived else 'not '}CNS-active by the drug table;"
                            f" got {str(given).lower()}: leave cns_active out")
    return derived


def is_cns_active(drug_class: str | None) -> bool:
    """CNS-active by class; an unknown class follows the MT policy (assumed CNS-active by default)."""
    if drug_class is None:
        return clinical_data.motor_threshold().freshness.unknown_drug_counts_as_cns_active
    return drug_class in clinical_data.medications().cns_active_classes


def _check_dates(fields: dict[str, Any], now: datetime, today: date) -> None:
    for name in ("start_date", "stop_date", "changed_on"):
        if fields.get(name) is not None:
            validation.require_past(name, fields[name], now, today)
    validation.require_order("stop_date", fields.get("start_date"), fields.get("stop_date"))


def _validate(row: Row, now: datetime, today: date) -> None:
    fields = row.model_dump()
    _check_dates(fields, now, today)
    if isinstance(row, MedicationTrial) and row.outcome == "intolerance" and not (row.side_effect or "").strip():
        raise Unprocessable("side_effect", "an intolerance needs the side effect named")


def _new_row(who: Principal, patient_id: int, data: Any, now: datetime) -> Row:
    fields = data.model_dump()
    common = {"clinic_id": who.clinic_id, "patient_id": patient_id, "recorded_by": who.user_id,
              "created_at": now, "updated_at": now}
    if isinstance(data, MedicationTrialCreate):
        fields["drug_class"] = _class_of(data.drug, data.drug_class)
        fields["dose_unit"] = _unit_of(data.drug, data.dose_unit)
        return MedicationTrial.model_validate(fields | common)
    if isinstance(data, MedicationChangeCreate):
        fields["drug_class"] = _class_of(data.drug, data.drug_class)
        fields["cns_active"] = _cns_of(fields["drug_class"], data.cns_active)
        return MedicationChange.model_validate(fields | common)
    return PsychotherapyTrial.model_validate(fields | common)


def create(
    session: Session, who: Principal, patient_id: int,
    data: MedicationTrialCreate | PsychotherapyTrialCreate | MedicationChangeCreate, now: datetime,
) -> Row:
    """Record one history entry for a patient of the caller's clinic."""
    patients.get_or_404(session, who, patient_id)
    row = _new_row(who, patient_id, data, now)
    _validate(row, now, clinic_day.clinic_today(session, who.clinic_id, now))
    amendments.created(session, who, row, entity=ENTITIES[type(row)], patient_id=patient_id, now=now)
    return row


def get_or_404(session: Session, who: Principal, model: type[R], row_id: int) -> R:
    """One entry of the caller's clinic (404 otherwise)."""
    row = repository.get(session, model, who.clinic_id, row_id)
    if row is None:
        raise NotFound(f"{ENTITIES[model].replace('_', ' ')} {row_id} not found")
    return row


def amend(
    session: Session, who: Principal, model: type[R], row_id: int,
    data: MedicationTrialAmend | PsychotherapyTrialAmend | MedicationChangeAmend, now: datetime,
) -> R:
    """Change fields of an entry with a reason; the old values stay in the audit trail."""
    row = get_or_404(session, who, model, row_id)
    changes = data.model_dump(exclude_unset=True, exclude={"reason"})
    if {"drug_class", "drug", "dose_unit", "cns_active"} & changes.keys():
        drug = changes.get("drug", getattr(row, "drug", ""))
        changes["drug_class"] = _class_of(drug, changes.get("drug_class"))
        if isinstance(row, MedicationTrial):
            changes["dose_unit"] = _unit_of(drug, changes.get("dose_unit"))
        if isinstance(row, MedicationChange):
            changes["cns_active"] = _cns_of(changes["drug_class"], changes.get("cns_active"))
    probe = model.model_validate(row.model_dump() | changes)
    _validate(probe, now, clinic_day.clinic_today(session, who.clinic_id, now))
    amendments.amend_row(session, who, row, changes, entity=ENTITIES[model], patient_id=row.patient_id,
                      reason=data.reason, now=now)
    return row


def history(session: Session, who: Principal, model: type[R], patient_id: int, now: datetime) -> list[R]:
    """A patient's entries of one kind (voided ones included, flagged); the read is audited."""
    patients.get_or_404(session, who, patient_id)
    rows = repository.for_patient(session, model, who.clinic_id, patient_id)
    amendments.read_audit(session, who, entity=ENTITIES[model], patient_id=patient_id, now=now,
                       detail={"returned": [r.id for r in rows]})
    return rows


def table_class(drug: str, stored: str | None) -> str | None:
    """The drug table's class wins over a stored one (rows recorded before the table was enforced)."""
    entry = clinical_data.medications().drug(drug)
    return entry.drug_class if entry else stored


def rule_trial(row: MedicationTrial) -> trials.MedicationTrial:
    """The rule engine's view of a stored trial."""
    return trials.MedicationTrial(
        drug=row.drug, daily_dose=row.daily_dose, start_date=row.start_date, stop_date=row.stop_date,
        outcome=row.outcome,  # type: ignore[arg-type]
        side_effect=row.side_effect, augmentation=row.augmentation, drug_class=table_class(row.drug, row.drug_class),
    )


def with_assessments(rows: list[MedicationTrial], today: date) -> list[dict[str, Any]]:
    """Each trial with its adequacy verdict (default minimum duration) and the reasons."""
    out = []
    for i, row in enumerate(rows):
        body = row.model_dump()
        if not row.entered_in_error:
            a = trials.assess_trial(rule_trial(row), i, today=today,
                                    min_weeks=clinical_data.medications().default_min_trial_weeks, field="trial")
            body["assessment"] = {"role": a.role, "duration_days": a.duration_days, "adequate_dose": a.adequate_dose,
                                  "adequate_duration": a.adequate_duration, "counts_as_failure": a.counts,
                                  "reasons": list(a.reasons)}
        out.append(body)
    return out


def changes_for_rules(session: Session, clinic_id: int, patient_id: int) -> list[MedicationChange]:
    """The patient's valid medication changes, oldest first (for screening and MT currency)."""
    return repository.for_patient(session, MedicationChange, clinic_id, patient_id, include_void=False)


def rule_change(row: MedicationChange) -> RuleMedicationChange:
    """The MT rule's view of a CNS-active change (an unlisted class is passed as unknown: counted by policy)."""
    cns_class = table_class(row.drug, row.drug_class)
    cns_class = cns_class if cns_class in clinical_data.medications().cns_active_classes else None
    return RuleMedicationChange(drug=row.drug, changed_on=row.changed_on, drug_class=cns_class)
