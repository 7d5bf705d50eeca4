"""Every query for motor-threshold determinations (always clinic-scoped)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.core.clock import as_utc
from service.models.bookings import DELIVERED, Booking
from service.models.chairs import Device
from service.models.motor_thresholds import MotorThreshold
from service.models.sessions import TreatmentSession


def for_patient(session: Session, clinic_id: int, patient_id: int) -> list[MotorThreshold]:
    return list(session.exec(
        select(MotorThreshold).where(MotorThreshold.clinic_id == clinic_id, MotorThreshold.patient_id == patient_id)
        .order_by(col(MotorThreshold.determined_at), col(MotorThreshold.id))
    ).all())


def latest(session: Session, clinic_id: int, patient_id: int) -> MotorThreshold | None:
    """The determination in force: the newest one."""
    return session.exec(
        select(MotorThreshold).where(MotorThreshold.clinic_id == clinic_id, MotorThreshold.patient_id == patient_id)
        .order_by(col(MotorThreshold.determined_at).desc(), col(MotorThreshold.id).desc())
    ).first()


def latest_on(session: Session, clinic_id: int, patient_id: int, device: Device) -> MotorThreshold | None:
    """The determination in force at a chair: the newest on this stimulator with the coil it carries now."""
    return session.exec(
        select(MotorThreshold).where(MotorThreshold.clinic_id == clinic_id, MotorThreshold.patient_id == patient_id,
                                     MotorThreshold.device_id == device.id, MotorThreshold.coil == device.coil_model)
        .order_by(col(MotorThreshold.determined_at).desc(), col(MotorThreshold.id).desc())
    ).first()


def device(session: Session, clinic_id: int, device_id: int) -> Device | None:
    return session.exec(select(Device).where(Device.id == device_id, Device.clinic_id == clinic_id)).first()


def delivered_session_starts(session: Session, clinic_id: int, patient_id: int) -> list[datetime]:
    """When the patient's delivered sessions (completed or interrupted bookings: pulses were given) really started;
    the booked time only for a booking with no session record."""
    delivered = DELIVERED
    rows = session.exec(
        select(Booking.start_at, TreatmentSession.started_at)
        .outerjoin(TreatmentSession, col(TreatmentSession.booking_id) == Booking.id)
        .where(Booking.clinic_id == clinic_id, Booking.patient_id == patient_id, col(Booking.status).in_(delivered))
    ).all()
    return sorted(as_utc(actual or booked) for booked, actual in rows)
