"""The prior-authorization packet (docs/clinical-rules.md#prior-authorization-packet): what the course's
record holds, section by section, and a list of what is missing. Nothing is inferred or filled in: an absent
fact is listed as missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from service.documents.record import CourseRecord
from service.medications import service as medications
from service.models.chairs import Device

CPT_LINES = (("90867", "initial session with cortical mapping and motor threshold determination (once per course)"),
             ("90868", "subsequent delivery and management, per session"),
             ("90869", "motor threshold re-determination with delivery and management, as clinically indicated"))


@dataclass
class Packet:
    record: CourseRecord
    criteria: dict[str, Any] | None
    baseline: Any
    trials: list[dict[str, Any]]
    devices: list[Device]
    cpt: list[tuple[str, str, int | None]]
    missing: list[str] = field(default_factory=list)


def _baseline(r: CourseRecord) -> Any:
    return r.assessments[0] if r.assessments else None


def _devices(session: Session, r: CourseRecord) -> list[Device]:
    ids = sorted({b.device_id for b in r.bookings})
    return [d for d in (session.get(Device, i) for i in ids) if d is not None and d.clinic_id == r.clinic.id]


def _gaps(r: CourseRecord, p: Packet) -> list[str]:
    e = r.eligibility
    checks = [
        (not p.baseline, "baseline standardized scale score for this course"),
        (not p.trials, "medication history for the current episode"),
        (not r.psychotherapy_trials, "psychotherapy trial (modality, dates, outcome)"),
        (e is None or not e.psychiatrist_evaluation, "face-to-face evaluation by the ordering psychiatrist"),
        (e is None or e.ect_status is None, "ECT status (receiving, candidate, contraindicated)"),
        (not r.screenings, "safety screening for this course"),
        (r.screenings and r.screenings[-1]["status"] != "cleared",
         "safety screening not cleared (findings await a psychiatrist's clearance)"),
        (not p.devices, "device: no chair/device booked for the course yet"),
        (r.patient.payer_member_id is None and r.patient.payer is not None, "payer member id"),
    ]
    out = [text for failed, text in checks if failed]
    out += [t["drug"] + ": " + "; ".join(t["missing"]) for t in p.trials if t.get("missing")]
    for c in (p.criteria or {}).get("criteria", []):
        # the payer's own list of what is missing, unless a section above already names it
        out += [f"{c['id'].replace('_', ' ')}: {m}" for m in c.get("missing", [])
                if not any(m.casefold() in known.casefold() for known in out)]
    return list(dict.fromkeys(out))  # once each, in order


def _trial_missing(t: dict[str, Any]) -> list[str]:
    missing = []
    if t.get("daily_dose") is None:
        missing.append("dose")
    if t.get("stop_date") is None and t.get("outcome") is None:
        missing.append("stop date or outcome")
    if t.get("outcome") is None:
        missing.append("response or intolerance")
    return missing


def build(session: Session, r: CourseRecord, criteria: dict[str, Any] | None, today: date) -> Packet:
    """The packet for one course and payer criteria set (``criteria`` is the eligibility decision)."""
    trials = [t | {"missing": _trial_missing(t)}
              for t in medications.with_assessments(r.medication_trials, today)]
    planned = r.planned_sessions
    cpt = [(code, text, n) for (code, text), n in zip(CPT_LINES, (1, max(planned - 1, 0), None), strict=True)]
    packet = Packet(record=r, criteria=criteria, baseline=_baseline(r), trials=trials,
                    devices=_devices(session, r), cpt=cpt)
    packet.missing = _gaps(r, packet)
    return packet
