"""Everything start needs to decide: the blockers (one gate function), the MT in force, the dose, the CPT code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.blockers.service import blockers_for
from service.chairs import capabilities
from service.core.errors import Conflict
from service.models.chairs import Chair, Device
from service.models.courses import Course
from service.models.motor_thresholds import MotorThreshold
from service.models.sessions import SessionStatus, TreatmentSession
from service.motor_thresholds import repository as motor_thresholds
from service.records import clinic_day
from service.rules import protocols
from service.sessions import device_program as dose

DELIVERED = (SessionStatus.completed.value, SessionStatus.interrupted.value)


def current_mt(session: Session, ts: TreatmentSession, device: Device | None) -> MotorThreshold | None:
    """The determination in force at the chair: the newest on its stimulator with the coil it carries.

    An MT in % of machine output is specific to the stimulator and coil (docs/dose-safety.md): one measured on
    another unit would dose this one at a different field, so it is never used here.
    """
    if device is None:
        return None
    return motor_thresholds.latest_on(session, ts.clinic_id, ts.patient_id, device)


def cpt_code(session: Session, ts: TreatmentSession, mt: MotorThreshold | None, now: datetime) -> str:
    """90867 for the course's first session, 90869 when the MT was re-determined today, else 90868."""
    earlier = session.exec(select(TreatmentSession.id).where(
        TreatmentSession.course_id == ts.course_id, TreatmentSession.id != ts.id,
        col(TreatmentSession.status).in_(DELIVERED))).first()
    if earlier is None:
        return "90867"
    if mt is not None and clinic_day.local_now(session, ts.clinic_id, mt.determined_at).date() == \
            clinic_day.clinic_today(session, ts.clinic_id, now):
        return "90869"
    return "90868"


def device_at_chair(session: Session, ts: TreatmentSession) -> Device | None:
    """The device standing at the session's chair now (the one its agent drives), else the booked one."""
    chair = session.get(Chair, ts.chair_id)
    device_id = chair.device_id if chair is not None and chair.device_id else ts.device_id
    return session.get(Device, device_id) if device_id else None


def preflight(session: Session, ts: TreatmentSession, now: datetime, *, resuming: bool = False) -> dict[str, Any]:
    """Blockers in plain words, the MT in force, and the dose or the reason there is none."""
    answers = (ts.checklist or {}).get("answers")
    acknowledged = (ts.checklist or {}).get("acknowledgements", {})
    today = clinic_day.clinic_today(session, ts.clinic_id, now)
    device = device_at_chair(session, ts)
    blockers = blockers_for(session, ts.clinic_id, ts.patient_id, ts.course_id, today, answers, now=now,
                            checklist_acknowledged=tuple(acknowledged), device=device)
    if resuming:  # the session already counted for the day's limit and the authorization
        blockers = [b for b in blockers if not b.code.startswith(("protocol_", "authorization_exhausted"))]
    mt = current_mt(session, ts, device)
    result: dict[str, Any] = {
        "session_id": ts.id, "status": ts.status,
        "blockers": [{"code": b.code, "message": b.message, "details": dict(b.details)} for b in blockers],
        "mt": None if mt is None else {"id": mt.id, "value": mt.value_pct_mso, "depth_adjusted": mt.adjusted_pct_mso,
                                       "determined_at": mt.determined_at.isoformat()},
        "dose": None, "dose_error": None, "cpt_code": cpt_code(session, ts, mt, now),
    }
    course = session.get(Course, ts.course_id)
    if mt is None or course is None or device is None:
        missing = "motor threshold" if mt is None else "device" if device is None else "course"
        result["dose_error"] = {"code": "dose_unavailable", "message": f"no dose: the {missing} is missing"}
        return result
    intensity = ts.intensity_pct_mt if resuming and ts.intensity_pct_mt is not None else course.intensity_pct_mt
    chair = session.get(Chair, ts.chair_id)
    why = capabilities.why_not(device.model, protocols.get(course.protocol_id), chair.mode if chair else ts.mode)
    if why is not None:
        result["dose_error"] = {"code": "capability", "message": f"chair {ts.chair_id} cannot run "
                                f"{course.protocol_id}: {why}"}
        return result
    try:
        plan = dose.plan(session, course, device.model, intensity, mt.value_pct_mso, mt.adjusted_pct_mso)
    except Conflict as exc:
        result["dose_error"] = {"code": exc.code, "message": exc.message, "details": exc.details}
        return result
    result["dose"] = {"output_pct_mso": plan.output_pct_mso, "reasons": list(plan.reasons),
                      "intensity_pct_mt": intensity, "protocol": plan.payload(),
                      "pulses_planned": plan.train.total_pulses, "device_model": device.model,
                      "device_id": device.id, "check": plan.verdict.public() if plan.verdict else None}
    return result
