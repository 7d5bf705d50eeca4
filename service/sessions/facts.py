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
from service.records import clinic_day
from service.rules import protocols
from service.sessions import device_program as dose

DELIVERED = (SessionStatus.completed.value, SessionStatus.interrupted.value)


def current_mt(session: Session, patient_id: int) -> MotorThreshold | None:
    """The latest determination (history is never overwritten; the newest is in force)."""
    return session.exec(select(MotorThreshold).where(MotorThreshold.patient_id == patient_id)
                        .order_by(col(MotorThreshold.determined_at).desc(), col(MotorThreshold.id).desc())).first()


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
    today = clinic_day.clinic_today(session, ts.clinic_id, now)
    blockers = blockers_for(session, ts.clinic_id, ts.patient_id, ts.course_id, today, answers, now=now)
    if resuming:  # the session already counted for the day's limit and the authorization
        blockers = [b for b in blockers if not b.code.startswith(("protocol_", "authorization_exhausted"))]
    mt = current_mt(session, ts.patient_id)
    result: dict[str, Any] = {
        "session_id": ts.id, "status": ts.status,
        "blockers": [{"code": b.code, "message": b.message, "details": dict(b.details)} for b in blockers],
        "mt": None if mt is None else {"id": mt.id, "value": mt.value_pct_mso, "depth_adjusted": mt.adjusted_pct_mso,
                                       "determined_at": mt.determined_at.isoformat()},
        "dose": None, "dose_error": None, "cpt_code": cpt_code(session, ts, mt, now),
    }
    course = session.get(Course, ts.course_id)
    device = device_at_chair(session, ts)
    if mt is None or course is None or device is None:
        missing = "motor threshold" if mt is None else "device" if device is None else "course"
        result["dose_error"] = {"code": "dose_unavailable", "message": f"no dose: the {missing} is missing"}
        return result
    chair = session.get(Chair, ts.chair_id)
    why = capabilities.why_not(device.model, protocols.get(course.protocol_id), chair.mode if chair else ts.mode)
    if why is not None:
        result["dose_error"] = {"code": "capability", "message": f"chair {ts.chair_id} cannot run "
                                f"{course.protocol_id}: {why}"}
        return result
    try:
        plan = dose.plan(protocols.get(course.protocol_id), device.model, course.intensity_pct_mt,
                         mt.value_pct_mso, mt.adjusted_pct_mso)
    except Conflict as exc:
        result["dose_error"] = {"code": exc.code, "message": exc.message}
        return result
    result["dose"] = {"output_pct_mso": plan.output_pct_mso, "reasons": list(plan.reasons),
                      "intensity_pct_mt": course.intensity_pct_mt, "protocol": plan.payload(),
                      "pulses_planned": plan.train.total_pulses, "device_model": device.model}
    return result
