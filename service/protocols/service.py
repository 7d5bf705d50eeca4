"""Protocol rules: the catalog with derived timing, validation against the IFCN table, signed overrides."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.audit import service as audit
from service.auth.passwords import Passwords
from service.auth.principal import Principal
from service.core import validation
from service.core.errors import Unprocessable
from service.models.courses import Course
from service.models.protocols import ProtocolOverride
from service.models.users import User
from service.patients import service as patients
from service.protocols import repository
from service.protocols.schemas import OverrideCreate, ProtocolParamsIn
from service.records import clinic_day
from service.rules import dose_check
from service.rules import protocols as rules

ENTITY = "protocol_override"


def catalog() -> list[dict[str, Any]]:
    """Every catalog protocol with its derived timing and any mismatch with the stored numbers."""
    out = []
    for p in rules.catalog():
        t = rules.timing(p)
        out.append(p.model_dump() | {
            "derived": asdict(t), "timing_violations": [asdict(v) for v in rules.check_stored_timing(p)],
        })
    return out


def validate(params: ProtocolParamsIn) -> rules.ValidationResult:
    """Whitelisted cleared protocol, or checked against the IFCN single-train table and the ITI rule."""
    with validation.field_errors():
        return rules.validate(rules.ProtocolParams(**params.model_dump()))


def parameters_sha256(params: ProtocolParamsIn) -> str:
    """SHA-256 of the canonical JSON of exactly these parameters (every field, defaults included)."""
    canonical = json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_signature(session: Session, who: Principal, passwords: Passwords, data: OverrideCreate) -> None:
    user = session.get(User, who.user_id)
    if user is None or not passwords.verify(user.password_hash, data.password):
        raise Unprocessable("password", "the password does not match: the override is not signed")
    if data.printed_name.strip().casefold() != user.display_name.strip().casefold():
        raise Unprocessable("printed_name", "the printed name must be the signer's name as on their account")


def sign_override(
    session: Session, who: Principal, passwords: Passwords, data: OverrideCreate, now: datetime
) -> ProtocolOverride:
    """Store a psychiatrist's signed approval of parameters that break the safety rules."""
    if data.patient_id is not None:
        patients.get_or_404(session, who, data.patient_id)
        if data.course_id is not None:
            clinic_day.course_for_patient(session, who.clinic_id, data.patient_id, data.course_id)
    elif data.course_id is not None:
        raise Unprocessable("patient_id", "give the patient when the override is for one of their courses")
    result = validate(data.parameters)
    if result.ok:
        raise Unprocessable("parameters", "these parameters pass the safety rules: no override is needed")
    _check_signature(session, who, passwords, data)
    row = ProtocolOverride(
        clinic_id=who.clinic_id, patient_id=data.patient_id, course_id=data.course_id,
        parameters=data.parameters.model_dump(mode="json"), parameters_sha256=parameters_sha256(data.parameters),
        violations=[asdict(v) for v in result.violations], reason=data.reason, meaning="approved",
        signed_by=who.user_id, printed_name=data.printed_name.strip(), signed_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(session, who.actor, at=now, action="sign", entity=ENTITY, entity_id=row.id,
                 patient_id=data.patient_id, new=row.model_dump(), reason=data.reason)
    return row


def overrides(session: Session, who: Principal, now: datetime, *, patient_id: int | None) -> list[ProtocolOverride]:
    """Signed overrides of the clinic (or one patient); reading a patient's is audited."""
    if patient_id is not None:
        patients.get_or_404(session, who, patient_id)
    rows = repository.for_clinic(session, who.clinic_id, patient_id)
    audit.record(session, who.actor, at=now, action="list", entity=ENTITY, patient_id=patient_id,
                 new={"returned": [r.id for r in rows]})
    return rows


def override_for(session: Session, course: Course, params: rules.ProtocolParams) -> ProtocolOverride | None:
    """The newest signed override of exactly these parameters for this course: signed for the course, or the
    patient's override the course was ordered with (``course.dose_override_id``). Any other course's, another
    patient's or a different parameter set's override does not count."""
    found = repository.by_hash(session, course.clinic_id, params_sha256(params))
    mine = [o for o in found if o.patient_id == course.patient_id
            and ((course.id is not None and o.course_id == course.id) or o.id == course.dose_override_id)]
    return mine[-1] if mine else None


def params_sha256(params: rules.ProtocolParams) -> str:
    """The hash a signed override of ``params`` carries (the same canonical JSON as the API's parameters)."""
    return parameters_sha256(ProtocolParamsIn(**dose_check.params_dict(params)))
