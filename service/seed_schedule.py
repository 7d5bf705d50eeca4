"""Demo scheduling data for `make run`: opening hours and the technician's shifts (the demo's patients and
their bookings come from service/demo_patients.py). Only what is missing is created."""

from __future__ import annotations

from datetime import datetime, time

from sqlmodel import Session

from service.calendar import repository as calendar_repo
from service.calendar.service import DEFAULT_HOURS
from service.models.calendar import ClinicSchedule, TechnicianShift
from service.users import repository as users


def seed_schedule(session: Session, clinic_id: int, technician: str, psychiatrist: str, now: datetime) -> None:
    """Hours Mon-Fri 08:00-18:00 and the technician on shift."""
    if calendar_repo.schedule(session, clinic_id) is None:
        session.add(ClinicSchedule(clinic_id=clinic_id, hours=dict(DEFAULT_HOURS), open_on_holidays=[],
                                   updated_at=now))
    tech = users.by_username(session, technician)
    if tech is not None and not calendar_repo.shifts(session, clinic_id, tech.id):
        session.add_all([TechnicianShift(clinic_id=clinic_id, user_id=tech.id or 0, weekday=d, start=time(8),
                                         end=time(18)) for d in range(5)])
