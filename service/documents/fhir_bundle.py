"""Assembling the course's resources into one collection Bundle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.documents import fhir
from service.documents.record import CourseRecord


def _device_for(r: CourseRecord, booking_id: int | None) -> int | None:
    ts = r.sessions.get(booking_id or 0)
    if ts is not None:
        return ts.device_id
    return next((s.device_id for s in r.delivered() if s.device_id), None)


def bundle(r: CourseRecord, now: datetime) -> dict[str, Any]:
    """The Bundle; each entry's fullUrl is a stable urn:uuid that the references use."""
    entries: list[tuple[str, dict[str, Any]]] = [(fhir.urn("patient", r.patient.id), fhir.patient(r))]
    delivered = r.delivered()
    people = {r.course.ordered_by} | {s.technician_id for s in delivered if s.technician_id}
    people |= {s.psychiatrist_id for s in delivered if s.psychiatrist_id}
    people |= {e.reported_by for e in r.adverse_events}
    entries += [(fhir.urn("practitioner", u), fhir.practitioner(r, u)) for u in sorted(people)]
    devices = {s.device_id: s for s in delivered if s.device_id}
    entries += [(fhir.urn("device", d), fhir.device(s)) for d, s in sorted(devices.items())]
    entries.append((fhir.urn("course", r.course.id), fhir.service_request(r)))
    entries += [(fhir.urn("session", s.id), fhir.procedure(r, s)) for s in delivered]
    for a in r.assessments:
        entries += fhir.observations(r, a)
    entries += [(fhir.urn("adverse-event", e.id), fhir.adverse_event(r, e, _device_for(r, e.booking_id)))
                for e in r.adverse_events]
    return {"resourceType": "Bundle", "type": "collection", "timestamp": now.astimezone(UTC).isoformat(),
            "identifier": {"system": "urn:tmsops:course-export", "value": f"{r.clinic.id}-{r.course.id}"},
            "entry": [{"fullUrl": url, "resource": res} for url, res in entries]}
