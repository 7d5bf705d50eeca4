"""One clinic, one chair and one patient on a migrated database; a new started session per round.

The records are made in-process (an app that is never served, on the real clock, since the served
process runs on the real clock too); everything after the start command goes through the real
`tmsops serve` and `tmsops agent` processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.app import create_app
from service.core.clock import Clock
from service.core.db import session_scope
from service.models.bookings import Booking
from service.models.sessions import ChairCommand, TreatmentSession
from tests.builders.delivery import delivery_world
from tests.conftest import Tenant, make_tenant, settings_for


def protocol(trains: int, pulses_per_train: int = 40, iti_s: float = 5.0) -> dict[str, Any]:
    """10 Hz trains ``iti_s`` apart, in device time (the agents' simulators run it faster)."""
    return {"intensity_percent": 55, "frequency_hz": 10.0, "pulses_per_train": pulses_per_train, "trains": trains,
            "inter_train_interval_s": iti_s, "burst_pulses": 1, "burst_ipi_ms": None}


@dataclass
class Rig:
    engine: Engine
    app: FastAPI
    tenant: Tenant
    model: str
    chair_id: int
    device_id: int
    patient_id: int
    course_id: int
    booking_id: int
    sessions: int = 0

    @classmethod
    def create(cls, database_url: str, engine: Engine, model: str, tag: str) -> Rig:
        app = create_app(settings_for(database_url), engine=engine, clock=Clock())
        tenant = make_tenant(app)
        with session_scope(engine) as s:
            # The fixture's session is left as the chair's first, already ended, record.
            world = delivery_world(s, tenant.clinic_id, tenant.users["technician"], app.state.clock.now(),
                                   tag=f"{tag}{tenant.clinic_id}", model=model, status="completed")
            ts = s.get(TreatmentSession, world.session_id)
            assert ts is not None
            booking = s.get(Booking, ts.booking_id)
            assert booking is not None
            booking.status = "completed"
            s.add(booking)
        return cls(engine, app, tenant, model, world.chair_id, world.device_id, world.patient_id, world.course_id,
                   ts.booking_id)

    def start_session(self, proto: dict[str, Any]) -> int:
        """A session in 'programming' with its deliver command queued, as the start endpoint leaves it."""
        self.sessions += 1
        now = self.app.state.clock.now()
        with session_scope(self.engine) as s:
            first = s.get(Booking, self.booking_id)
            assert first is not None
            start = first.start_at + timedelta(hours=self.sessions)  # one booking an hour: none overlap
            booking = Booking(clinic_id=self.tenant.clinic_id, course_id=self.course_id, patient_id=self.patient_id,
                              chair_id=self.chair_id, device_id=self.device_id,
                              technician_id=self.tenant.users["technician"], start_at=start,
                              end_at=start + timedelta(minutes=45), status="in_progress", phase_name="acute",
                              phase_kind="acute", sequence=self.sessions + 1, created_at=now, updated_at=now)
            s.add(booking)
            s.flush()
            ts = TreatmentSession(
                clinic_id=self.tenant.clinic_id, patient_id=self.patient_id, course_id=self.course_id,
                booking_id=booking.id or 0, chair_id=self.chair_id, device_id=self.device_id, status="programming",
                checked_in_at=now, started_at=now, updated_at=now, protocol_id="hf10_3000_iti26",
                frequency_hz=proto["frequency_hz"], pulses_per_train=proto["pulses_per_train"],
                trains_planned=proto["trains"], iti_s=proto["inter_train_interval_s"], burst_pulses=1,
                pulses_planned=proto["trains"] * proto["pulses_per_train"], output_pct_mso=proto["intensity_percent"])
            s.add(ts)
            s.flush()
            s.add(ChairCommand(clinic_id=self.tenant.clinic_id, chair_id=self.chair_id, session_id=ts.id or 0,
                               kind="deliver", payload={"mode": "control", "protocol": proto}, created_at=now))
            return ts.id or 0

    def command_status(self, session_id: int) -> str:
        with Session(self.engine) as s:
            command = s.exec(select(ChairCommand).where(ChairCommand.session_id == session_id)).first()
            return command.status if command else "none"
