"""A course as a FHIR R4 collection Bundle (docs/fhir-export.md): Patient, Practitioner, Device, ServiceRequest,
a Procedure per delivered session (CPT), Observations for rating scales (PHQ-9 as LOINC panel 44249-1 with
total 44261-6 and item members), AdverseEvent.

Only recorded facts and confirmed codes: no SNOMED code for TMS is confirmed, so the course and session codes
are CPT and text; scales without a confirmed LOINC code carry text only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from service.documents.record import CourseRecord
from service.models.adverse_events import AdverseEvent
from service.models.assessments import Assessment
from service.models.sessions import TreatmentSession

CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
NAMESPACE = uuid.UUID("5b0d1c1e-7a55-4c1b-9d7e-4a0b5e3c7f10")  # fixed: the same record gives the same ids
GENDER = {"female": "female", "male": "male", "other": "other"}
COURSE_STATUS = {"planned": "active", "active": "active", "on_hold": "on-hold", "completed": "completed",
                 "discontinued": "revoked"}
SEVERITY = {1: "mild", 2: "moderate"}  # CTCAE grade 3 and above are "severe" in FHIR's three-level scale
AE_OUTCOMES = {"recovered": "resolved", "recovering": "recovering", "not_recovered": "ongoing",
               "recovered_with_sequelae": "resolvedWithSequelae", "fatal": "fatal"}


def urn(kind: str, key: Any) -> str:
    """A stable urn:uuid for one resource of this export (clinic-independent, never the database id alone)."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{key}')}"


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _ref(kind: str, key: Any, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": urn(kind, key)}
    if display:
        ref["display"] = display
    return ref


def patient(r: CourseRecord) -> dict[str, Any]:
    p = r.patient
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": f"urn:tmsops:clinic:{r.clinic.id}:mrn", "value": p.mrn}],
        "name": [{"family": p.family_name, "given": [p.given_name]}],
        "gender": GENDER.get(p.sex, "unknown"), "birthDate": p.date_of_birth.isoformat(),
    }
    if p.phone or p.email:
        out["telecom"] = [t for t in ({"system": "phone", "value": p.phone} if p.phone else None,
                                      {"system": "email", "value": p.email} if p.email else None) if t]
    return out


def practitioner(r: CourseRecord, user_id: int) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "identifier": [{"system": "urn:tmsops:user", "value": str(user_id)}],
            "name": [{"text": r.user_name(user_id)}]}


def device(ts: TreatmentSession) -> dict[str, Any]:
    names = [{"name": ts.device_model or "unknown", "type": "model-name"}]
    if ts.coil_model:
        names.append({"name": f"coil {ts.coil_model}", "type": "other"})
    out: dict[str, Any] = {"resourceType": "Device", "deviceName": names,
                           "type": {"text": "Transcranial magnetic stimulator"}}
    if ts.device_serial:
        out["serialNumber"] = ts.device_serial
    if ts.device_firmware:
        out["version"] = [{"value": ts.device_firmware}]
    return out


def service_request(r: CourseRecord) -> dict[str, Any]:
    c = r.course
    protocol = r.protocol.name if r.protocol else c.protocol_id
    out: dict[str, Any] = {
        "resourceType": "ServiceRequest", "status": COURSE_STATUS.get(c.status, "unknown"), "intent": "order",
        "code": {"text": "Repetitive transcranial magnetic stimulation (rTMS) course"},
        "subject": _ref("patient", r.patient.id), "authoredOn": _when(c.ordered_at),
        "requester": _ref("practitioner", c.ordered_by, r.user_name(c.ordered_by)),
        "reasonCode": [{"coding": [{"system": ICD10CM, "code": r.patient.primary_diagnosis}]}],
        "bodySite": [{"text": c.target}], "quantityQuantity": {"value": r.planned_sessions, "unit": "sessions"},
        "note": [{"text": f"{protocol} at {c.intensity_pct_mt:g}% of resting motor threshold; "
                          f"placement {c.placement_method}"}],
    }
    if c.start_date:
        out["occurrencePeriod"] = {"start": c.start_date.isoformat()}
    return out


def procedure(r: CourseRecord, ts: TreatmentSession) -> dict[str, Any]:
    cpt = ts.cpt_code or "90868"
    performers = [{"actor": _ref("practitioner", ts.technician_id, r.user_name(ts.technician_id)),
                   "function": {"text": "TMS technician"}}] if ts.technician_id else []
    if ts.psychiatrist_id:
        performers.append({"actor": _ref("practitioner", ts.psychiatrist_id, r.user_name(ts.psychiatrist_id)),
                           "function": {"text": "supervising psychiatrist"}})
    out: dict[str, Any] = {
        "resourceType": "Procedure", "status": "completed" if ts.status == "completed" else "stopped",
        "code": {"coding": [{"system": CPT, "code": cpt}]}, "subject": _ref("patient", r.patient.id),
        "basedOn": [_ref("course", r.course.id)], "performer": performers,
        "performedPeriod": {k: v for k, v in (("start", _when(ts.started_at)), ("end", _when(ts.ended_at))) if v},
        "bodySite": [{"text": r.course.target}],
        "note": [{"text": f"session {ts.session_number}: {ts.pulses_delivered} of {ts.pulses_planned} pulses, "
                          f"{ts.trains_delivered} of {ts.trains_planned} trains, {ts.frequency_hz} Hz, "
                          f"{ts.output_pct_mso}% MSO ({ts.intensity_pct_mt}% of MT {ts.mt_pct_mso}% MSO)"
                          + (f"; ended: {ts.end_reason}" if ts.end_reason else "")}],
    }
    if ts.device_id:
        out["focalDevice"] = [{"manipulated": _ref("device", ts.device_id)}]
    if ts.status != "completed" and ts.end_reason:
        out["statusReason"] = {"text": ts.end_reason}
    return out


def observations(r: CourseRecord, a: Assessment) -> list[tuple[str, dict[str, Any]]]:
    """The scale as one Observation, or for LOINC-coded panels a panel with total and item members."""
    base = {"resourceType": "Observation", "status": "final", "subject": _ref("patient", r.patient.id),
            "effectiveDateTime": _when(a.administered_at),
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "survey"}]}]}
    total_code = {"coding": [{"system": LOINC, "code": a.total_code}]} if a.total_code else {}
    total = base | {"code": total_code | {"text": f"{a.instrument} total score"}, "valueInteger": a.total,
                    "interpretation": [{"text": a.severity}]}
    if not a.panel_code:
        return [(urn("assessment-total", a.id), total)]
    items = []
    for i in a.item_codes:
        code = {"coding": [{"system": LOINC, "code": i["loinc"]}]} if i.get("loinc") else {}
        item = base | {"code": code | {"text": f"{a.instrument} item {i['number']}"}, "valueInteger": i["value"]}
        items.append((urn("assessment-item", f"{a.id}/{i['number']}"), item))
    members = [{"reference": urn("assessment-total", a.id)}] + [{"reference": key} for key, _ in items]
    panel = base | {"code": {"coding": [{"system": LOINC, "code": a.panel_code}], "text": f"{a.instrument} panel"},
                    "hasMember": members}
    return [(urn("assessment", a.id), panel), (urn("assessment-total", a.id), total), *items]


def adverse_event(r: CourseRecord, e: AdverseEvent, device_id: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "AdverseEvent", "actuality": "actual", "subject": _ref("patient", r.patient.id),
        "event": {"text": e.term.replace("_", " ") + (f": {e.description}" if e.description else "")},
        "date": _when(e.onset_at), "recordedDate": _when(e.created_at),
        "seriousness": {"coding": [{"system": AE_SERIOUSNESS, "code": "serious" if e.serious else "non-serious"}]},
        "severity": {"coding": [{"system": AE_SEVERITY, "code": SEVERITY.get(e.grade, "severe")}],
                     "text": f"CTCAE grade {e.grade}"},
        "recorder": _ref("practitioner", e.reported_by, r.user_name(e.reported_by)),
    }
    if e.outcome in AE_OUTCOMES:
        out["outcome"] = {"coding": [{"system": AE_OUTCOME, "code": AE_OUTCOMES[e.outcome]}]}
    if device_id:
        out["suspectEntity"] = [{"instance": _ref("device", device_id)}]
    return out
