"""A demo clinic for `make run`: one clinic, two chairs with simulated stimulators, four accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from service.audit.service import SYSTEM
from service.auth.passwords import Passwords
from service.chairs import repository as chairs
from service.clinics import service as clinics
from service.demo_patients import seed_patients
from service.models.chairs import Chair, Device
from service.models.users import Role
from service.seed_schedule import seed_schedule
from service.users import repository as users
from service.users import service as user_service
from service.users.schemas import UserCreate

DEMO_CLINIC = "Demo TMS Clinic"
DEMO_AGENT = "agent-demo"
DEMO_USERS = [
    ("tech", "Tara Technician", Role.technician),
    ("drpsych", "Dr. Paul Psychiatrist", Role.psychiatrist),
    ("admin", "Ada Admin", Role.admin),
    (DEMO_AGENT, "Chair agent (demo)", Role.agent),
]
DEMO_CHAIRS = [
    ("Chair 1", "magstim-rapid2", "SIM-R2-0001", "D70 Alpha figure-of-8"),
    ("Chair 2", "magventure-x100", "SIM-X100-0001", "Cool-B65"),
]


@dataclass(frozen=True)
class SeedResult:
    clinic_id: int
    created_passwords: dict[str, str]  # only accounts created by this call


def seed_demo(session: Session, passwords: Passwords, now: datetime) -> SeedResult:
    """Create what is missing of the demo clinic; existing records are left as they are."""
    clinic = clinics.get_or_create(session, SYSTEM, DEMO_CLINIC, now, timezone="America/New_York",
                                   country="US", subdivision="MA")
    clinic_id = clinic.id or 0
    created: dict[str, str] = {}
    for username, name, role in DEMO_USERS:
        if users.by_username(session, username) is None:
            password = secrets.token_urlsafe(12)
            user_service.create(session, SYSTEM, passwords, clinic_id,
                                UserCreate(username=username, display_name=name, role=role, password=password), now)
            created[username] = password
    for chair_name, model, serial, coil in DEMO_CHAIRS:
        if chairs.chair_by_name(session, clinic_id, chair_name) is None:
            device = Device(clinic_id=clinic_id, model=model, serial=serial, coil_model=coil, created_at=now)
            session.add(device)
            session.flush()
            session.add(Chair(clinic_id=clinic_id, name=chair_name, device_id=device.id, created_at=now))
    session.flush()
    seed_schedule(session, clinic_id, "tech", "drpsych", now)  # opening hours and the technician's shifts
    seed_patients(session, clinic_id, "tech", "drpsych", now)  # ready to treat today on each chair, a referral
    return SeedResult(clinic_id, created)
