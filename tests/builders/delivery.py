"""A minimal world for delivery: a clinic's patient, course, chair, device, booking and checked-in session.

Used by the ingest benchmark and by tests that exercise the agent path below the clinical gates; the
clinical flow itself (orders, screening, MT, booking) is tested through the API elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from service.models.bookings import Booking
from service.models.chairs import Chair, Device
from service.models.courses import Course
from service.models.patients import Patient
from service.models.sessions import SessionStatus, TreatmentSession


@dataclass(frozen=True)
class DeliveryWorld:
    chair_id: int
    device_id: int
    session_id: int
    patient_id: int
    course_id: int


def delivery_world(session: Session, clinic_id: int, user_id: int, now: datetime, *, tag: str,
                   model: str = "magstim-rapid2", trains: int = 75, pulses_per_train: int = 40,
                   status: str = SessionStatus.programming.value, slot: int = 0) -> DeliveryWorld:
    """One chair with a device and one session on it, ready for the agent's events.

    ``slot`` moves the booking by that many hours, so many worlds can share one technician without overlap.
    """
    patient = Patient(clinic_id=clinic_id, mrn=f"W-{tag}", family_name="World", given_name=tag,
                      date_of_birth=date(1975, 1, 1), sex="female", primary_diagnosis="F33.2",
                      created_at=now, updated_at=now)
    device = Device(clinic_id=clinic_id, model=model, serial=f"SER-{tag}", coil_model="coil", created_at=now)
    session.add_all([patient, device])
    session.flush()
    chair = Chair(clinic_id=clinic_id, name=f"Chair {tag}", device_id=device.id, created_at=now)
    course = Course(clinic_id=clinic_id, patient_id=patient.id or 0, protocol_id="hf10_3000_iti26",
                    template_id="standard-36", intensity_pct_mt=120, ordered_by=user_id, ordered_at=now,
                    status="active", created_at=now, updated_at=now, eligibility_exception="self_pay",
                    eligibility_exception_reason="self-pay patient of the delivery world")
    session.add_all([chair, course])
    session.flush()
    booking = Booking(clinic_id=clinic_id, course_id=course.id or 0, patient_id=patient.id or 0,
                      chair_id=chair.id or 0, device_id=device.id or 0, technician_id=user_id,
                      start_at=now + timedelta(hours=slot), end_at=now + timedelta(hours=slot, minutes=45),
                      status="in_progress",
                      phase_name="acute", phase_kind="acute", sequence=1, created_at=now, updated_at=now)
    session.add(booking)
    session.flush()
    ts = TreatmentSession(
        clinic_id=clinic_id, patient_id=patient.id or 0, course_id=course.id or 0, booking_id=booking.id or 0,
        chair_id=chair.id or 0, device_id=device.id, status=status, checked_in_at=now, updated_at=now,
        protocol_id="hf10_3000_iti26", frequency_hz=10, pulses_per_train=pulses_per_train, trains_planned=trains,
        iti_s=26, burst_pulses=1, pulses_planned=trains * pulses_per_train, output_pct_mso=60,
    )
    session.add(ts)
    session.flush()
    return DeliveryWorld(chair.id or 0, device.id or 0, ts.id or 0, patient.id or 0, course.id or 0)
