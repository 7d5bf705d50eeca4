"""Clinical records for the API, page and document tests: patients, courses, bookings, row and audit counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import func
from sqlmodel import Session, col, select

from config import clinical_data
from service.core.db import session_scope
from service.models.audit import AuditEvent
from service.models.courses import Course
from tests.conftest import T0, Tenant, patient_body

TODAY = date(2026, 11, 23)  # T0's date in New York
ALL_NO = {i.id: "no" for i in clinical_data.screening().items}
CHECKLIST_OK = {"hearing_protection": "yes", "sleep_loss": "no", "alcohol_or_drugs": "no", "caffeine": "no",
                "medication_change": "no", "new_symptoms": "no", "seizure_or_fainting": "no",
                "coil_position_confirmed": "yes"}
WRITE = {"X-Requested-With": "test"}


_DEVICES: dict[str, int] = {}


def clinic_device(tenant: Tenant) -> int:
    """The tenant's stimulator (made once): an MT is determined on a device and coil."""
    if tenant.name not in _DEVICES:  # clinic ids come round again once a test's rows are rolled back
        r = tenant.client("admin").post("/api/v1/devices", headers=WRITE, json={
            "model": "magstim-rapid2", "serial": f"S-{uuid4().hex[:8]}", "coil_model": "D70"})
        assert r.status_code == 201, r.text
        _DEVICES[tenant.name] = int(r.json()["id"])
    return _DEVICES[tenant.name]


def new_patient(tenant: Tenant, **overrides: object) -> int:
    response = tenant.client("technician").post("/api/v1/patients", json=patient_body(**overrides))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def new_course(tenant: Tenant, patient_id: int, **fields: Any) -> int:
    """An active course row straight in the database."""
    values: dict[str, Any] = {
        "clinic_id": tenant.clinic_id, "patient_id": patient_id, "protocol_id": "hf10_3000_iti26",
        "template_id": "standard-36", "kind": "initial", "status": "active", "intensity_pct_mt": 120.0,
        "ordered_by": tenant.users["psychiatrist"], "ordered_at": T0 - timedelta(days=3),
        "start_date": TODAY - timedelta(days=1), "created_at": T0, "updated_at": T0,
        # A course row carries its eligibility record, as an ordered one does (here a documented exception).
        "eligibility_exception": "clinical_judgement", "eligibility_exception_reason": "built for a test",
    } | fields
    return add(tenant, Course(**values))


def add(tenant: Tenant, row: Any) -> int:
    """Insert one row and return its id."""
    with session_scope(tenant.app.state.engine) as session:
        session.add(row)
        session.flush()
        return int(row.id or 0)


def count(tenant: Tenant, model: Any, **where: Any) -> int:
    """Rows of ``model`` in the tenant's clinic (optionally filtered by equality)."""
    with Session(tenant.app.state.engine) as session:
        query = select(func.count()).select_from(model).where(model.clinic_id == tenant.clinic_id)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.exec(query).one())


def audit_rows(tenant: Tenant, patient_id: int, entity: str | None = None) -> list[AuditEvent]:
    with Session(tenant.app.state.engine) as session:
        query = select(AuditEvent).where(AuditEvent.patient_id == patient_id)
        if entity is not None:
            query = query.where(AuditEvent.entity == entity)
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def field_of(response: Any) -> str:
    """The field the first error detail names."""
    details = response.json()["error"]["details"]
    assert details, response.text
    return str(details[0]["field"])


def moment(days: float = 0, hours: float = 0) -> datetime:
    """A time relative to T0."""
    return T0 + timedelta(days=days, hours=hours)


def at(days: float = 0, hours: float = 0) -> str:
    """An ISO timestamp relative to T0."""
    return moment(days, hours).isoformat()


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid4().hex[:8]}"


def new_booking(tenant: Tenant, patient_id: int, course_id: int, start: datetime, *, status: str = "completed",
                sequence: int = 1, authorization_id: int | None = None) -> int:
    """A booking on a fresh chair and device of the clinic (rows straight in the database)."""
    from service.models.bookings import Booking
    from service.models.chairs import Chair, Device

    with session_scope(tenant.app.state.engine) as session:
        device = Device(clinic_id=tenant.clinic_id, model="magstim-rapid2", serial=f"S-{uuid4().hex[:8]}",
                        coil_model="D70", created_at=T0)
        session.add(device)
        session.flush()
        chair = Chair(clinic_id=tenant.clinic_id, name=f"Chair {uuid4().hex[:8]}", device_id=device.id, created_at=T0)
        session.add(chair)
        session.flush()
        booking = Booking(clinic_id=tenant.clinic_id, course_id=course_id, patient_id=patient_id,
                          chair_id=chair.id or 0, device_id=device.id or 0, technician_id=tenant.users["technician"],
                          authorization_id=authorization_id, start_at=start, end_at=start + timedelta(minutes=40),
                          status=status, phase_name="acute", phase_kind="acute", sequence=sequence,
                          created_at=T0, updated_at=T0)
        session.add(booking)
        session.flush()
        return booking.id or 0
