"""Eligibility: the profile (amended with a reason) and decisions per criteria set, every criterion explained."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import Session

from config import clinical_data
from service.auth.principal import Principal
from service.core import validation
from service.core.errors import NotFound, Unprocessable
from service.eligibility import facts as eligibility_facts
from service.eligibility import repository
from service.eligibility.schemas import ProfileWrite
from service.models.eligibility import EligibilityProfile
from service.patients import service as patients
from service.records import amendments, clinic_day
from service.rules import eligibility as rules

ENTITY = "eligibility_profile"


def criteria_sets() -> list[dict[str, Any]]:
    """Every criteria set in the data file, with its criteria."""
    data = clinical_data.payer_criteria()
    return [{"id": cs.id, "name": cs.name, "source": cs.source, "version": data.version,
             "criteria": [c.model_dump() for c in cs.criteria]} for cs in data.criteria_sets]


def _check_profile(data: ProfileWrite, now: datetime, session: Session, clinic_id: int) -> None:
    vocab = clinical_data.payer_criteria().condition_vocabulary
    unknown = sorted(set(data.conditions) - set(vocab))
    if unknown:
        raise Unprocessable(f"conditions.{unknown[0]}", f"unknown condition; known: {', '.join(sorted(vocab))}")
    if data.psychiatrist_evaluated_on is not None:
        validation.require_past("psychiatrist_evaluated_on", data.psychiatrist_evaluated_on, now,
                             clinic_day.clinic_today(session, clinic_id, now))


def write_profile(
    session: Session, who: Principal, patient_id: int, data: ProfileWrite, now: datetime
) -> EligibilityProfile:
    """Create the profile, or replace it (a reason is then required and the old values are audited)."""
    patients.get_or_404(session, who, patient_id)
    _check_profile(data, now, session, who.clinic_id)
    fields = data.model_dump(exclude={"reason"}, mode="json")
    row = repository.profile(session, who.clinic_id, patient_id)
    if row is None:
        row = EligibilityProfile(**fields, clinic_id=who.clinic_id, patient_id=patient_id, updated_by=who.user_id,
                                 created_at=now, updated_at=now)
        row.psychiatrist_evaluated_on = data.psychiatrist_evaluated_on
        amendments.created(session, who, row, entity=ENTITY, patient_id=patient_id, now=now)
        return row
    if data.reason is None:
        raise Unprocessable("reason", "the profile exists: say why it is amended")
    fields["psychiatrist_evaluated_on"] = data.psychiatrist_evaluated_on
    amendments.amend_row(session, who, row, fields | {"updated_by": who.user_id}, entity=ENTITY, patient_id=patient_id,
                      reason=data.reason, now=now)
    return row


def read_profile(session: Session, who: Principal, patient_id: int, now: datetime) -> EligibilityProfile:
    """The patient's profile (404 if none yet); the read is audited."""
    patients.get_or_404(session, who, patient_id)
    row = repository.profile(session, who.clinic_id, patient_id)
    if row is None:
        raise NotFound(f"patient {patient_id} has no eligibility profile yet")
    amendments.read_audit(session, who, entity=ENTITY, entity_id=row.id, patient_id=patient_id, now=now)
    return row


def decide(session: Session, who: Principal, patient_id: int, criteria: str, now: datetime) -> dict[str, Any]:
    """Eligible or not under one criteria set, with every criterion's evidence and what is missing."""
    patient = patients.get_or_404(session, who, patient_id)
    today = clinic_day.clinic_today(session, who.clinic_id, now)
    facts = eligibility_facts.build(session, patient, today)
    with validation.field_errors():
        decision = rules.evaluate(criteria, facts, today)
    amendments.read_audit(session, who, entity="eligibility", patient_id=patient_id, now=now,
                       detail={"criteria": criteria, "status": decision.status})
    return {
        "patient_id": patient_id, "criteria_set_id": decision.criteria_set_id,
        "criteria_set_name": decision.criteria_set_name, "criteria_version": decision.criteria_version,
        "eligible": decision.eligible, "status": decision.status,
        "criteria": [asdict(c) for c in decision.criteria],
        "trials": [asdict(t) | {"counts": t.counts} for t in decision.trials],
        "facts": {"age_years": facts.age_years, "diagnosis_codes": list(facts.diagnosis_codes),
                  "baseline_scores": [asdict(b) for b in facts.baseline_scores],
                  "is_retreatment": facts.is_retreatment, "prior_courses": [asdict(p) for p in facts.prior_courses]},
    }
