"""Motor-threshold rules: history never overwritten, depth adjustment, freshness policy; all audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session

from service.auth.principal import Principal
from service.core import validation
from service.core.clock import as_utc
from service.core.errors import Unprocessable
from service.core.stamp import stamped
from service.medications import service as medications
from service.models.chairs import Device
from service.models.motor_thresholds import MotorThreshold
from service.motor_thresholds import repository
from service.motor_thresholds.schemas import BeamF3Request, MotorThresholdCreate
from service.patients import service as patients
from service.records import amendments, clinic_day
from service.rules import motor_threshold as rules

ENTITY = "motor_threshold"


def _device_coil(session: Session, who: Principal, data: MotorThresholdCreate) -> str | None:
    device = repository.device(session, who.clinic_id, data.device_id)
    if device is None:
        raise Unprocessable("device_id", f"device {data.device_id} is not a device of this clinic")
    return data.coil or device.coil_model


def create(
    session: Session, who: Principal, patient_id: int, data: MotorThresholdCreate, now: datetime
) -> MotorThreshold:
    """Store a new determination (the caller is the operator); earlier ones stay as history."""
    determined_at = stamped(data.determined_at, now)
    patients.get_or_404(session, who, patient_id)
    today = clinic_day.clinic_today(session, who.clinic_id, now)
    validation.require_past("determined_at", determined_at, now, today)
    if data.course_id is not None:
        clinic_day.course_for_patient(session, who.clinic_id, patient_id, data.course_id)
    coil = _device_coil(session, who, data)
    adjusted = None
    if data.d_m1_mm is not None and data.d_target_mm is not None:
        with validation.field_errors():
            adjusted = rules.depth_adjusted_mt(data.value_pct_mso, data.d_m1_mm, data.d_target_mm)
        if adjusted > 100:
            raise Unprocessable("d_target_mm", f"depth-adjusted MT {adjusted:g}% is above the device's 100% output")
    row = MotorThreshold(**data.model_dump(exclude={"coil", "determined_at"}), determined_at=determined_at,
                         coil=coil, adjusted_pct_mso=adjusted,
                         clinic_id=who.clinic_id, patient_id=patient_id, operator_id=who.user_id, created_at=now)
    amendments.created(session, who, row, entity=ENTITY, patient_id=patient_id, now=now)
    return row


def history(session: Session, who: Principal, patient_id: int, now: datetime) -> list[MotorThreshold]:
    """Every determination for the patient, oldest first; the read is audited."""
    patients.get_or_404(session, who, patient_id)
    rows = repository.for_patient(session, who.clinic_id, patient_id)
    amendments.read_audit(session, who, entity=ENTITY, patient_id=patient_id, now=now,
                       detail={"returned": [r.id for r in rows]})
    return rows


def facts(
    session: Session, clinic_id: int, patient_id: int, *, session_dates: Sequence[date] | None = None,
    device: Device | None = None,
) -> rules.MTFacts:
    """The MT rule's facts from the database; sessions delivered default to the patient's delivered bookings.

    With ``device`` (at a chair) the determination is the newest on that stimulator and coil.
    """
    if device is not None:
        latest = repository.latest_on(session, clinic_id, patient_id, device)
    else:
        latest = repository.latest(session, clinic_id, patient_id)
    determined = None
    if latest is not None:
        determined = clinic_day.local_now(session, clinic_id, as_utc(latest.determined_at)).date()
    if session_dates is None:
        session_dates = [clinic_day.local_now(session, clinic_id, as_utc(at)).date()
                         for at in repository.delivered_session_starts(session, clinic_id, patient_id)]
    changes = [c for c in medications.changes_for_rules(session, clinic_id, patient_id) if c.cns_active]
    return rules.MTFacts(determined_on=determined, session_dates=tuple(session_dates),
                         medication_changes=tuple(medications.rule_change(c) for c in changes))


def freshness(
    session: Session, who: Principal, patient_id: int, now: datetime
) -> tuple[rules.Freshness, MotorThreshold | None]:
    """Whether the MT in force may be used today, with the reasons; the read is audited."""
    patients.get_or_404(session, who, patient_id)
    today = clinic_day.clinic_today(session, who.clinic_id, now)
    with validation.field_errors():
        fresh = rules.freshness(None, facts(session, who.clinic_id, patient_id), today)
    latest = repository.latest(session, who.clinic_id, patient_id)
    amendments.read_audit(session, who, entity=ENTITY, entity_id=latest.id if latest else None, patient_id=patient_id,
                       now=now, detail={"stale": fresh.stale, "reasons": list(fresh.reasons)})
    return fresh, latest


def beam_f3(data: BeamF3Request) -> dict[str, object]:
    """F3 scalp position from head measurements."""
    with validation.field_errors():
        pos = rules.beam_f3(data.tragus_tragus_cm, data.nasion_inion_cm, data.circumference_cm)
    return {"x_cm": pos.x_cm, "y_cm": pos.y_cm,
            "note": "Beam 2009 webpage formula: X along the circumference from Fpz, Y from Cz; "
                    "validate against the official calculator before clinical use"}
