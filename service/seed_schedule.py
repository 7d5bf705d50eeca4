"""Demo scheduling data for `make run`: opening hours, the technician's shifts, one patient with a course
planned and booked, so the chair's day page has something to show. Only what is missing is created."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Session

from service.auth.principal import Principal
from service.bookings import planning
from service.calendar import repository as calendar_repo
from service.calendar.service import DEFAULT_HOURS
from service.courses.schemas import CourseCreate
from service.courses.service import order
from service.models.calendar import ClinicSchedule, TechnicianShift
from service.models.patients import Patient
from service.patients import repository as patients
from service.users import repository as users

DEMO_MRN = "DEMO-0001"


def seed_schedule(session: Session, clinic_id: int, technician: str, psychiatrist: str, now: datetime) -> None:
    """Hours Mon-Fri 08:00-18:00, the technician on shift, and a demo patient's course booked from today."""
    if calendar_repo.schedule(session, clinic_id) is None:
        session.add(ClinicSchedule(clinic_id=clinic_id, hours=dict(DEFAULT_HOURS), open_on_holidays=[],
                                   updated_at=now))
    tech = users.by_username(session, technician)
    if tech is not None and not calendar_repo.shifts(session, clinic_id, tech.id):
        session.add_all([TechnicianShift(clinic_id=clinic_id, user_id=tech.id or 0, weekday=d, start=time(8),
                                         end=time(18)) for d in range(5)])
    psych = users.by_username(session, psychiatrist)
    if psych is None or patients.by_mrn(session, clinic_id, DEMO_MRN) is not None:
        return
    session.flush()
    patient = Patient(clinic_id=clinic_id, mrn=DEMO_MRN, family_name="Demo", given_name="Dana",
                      date_of_birth=date(1975, 6, 1), sex="female", primary_diagnosis="F33.2", payer="Medicare",
                      created_at=now, updated_at=now)
    session.add(patient)
    session.flush()
    who = Principal(psych.id or 0, psych.username, psych.display_name, psych.role, clinic_id, 0, False)
    course = order(session, who, CourseCreate(patient_id=patient.id or 0, protocol_id="hf10_3000_iti26",
                                              intensity_pct_mt=120, window_start=time(9), window_end=time(12)), now)
    planning.plan_and_book(session, who, course.id or 0, None, False, now)
