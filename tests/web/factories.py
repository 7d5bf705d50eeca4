"""Rows for the page, signature and document tests, written straight through the models (one builder each)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from service.core.db import session_scope
from service.models.audit import AuditEvent
from service.models.courses import Course
from tests.conftest import T0, Tenant, patient_body

TODAY = date(2026, 11, 23)  # T0's date in New York
WRITE = {"X-Requested-With": "test"}


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
    } | fields
    return add(tenant, Course(**values))


def add(tenant: Tenant, row: Any) -> int:
    """Insert one row and return its id."""
    with session_scope(tenant.app.state.engine) as session:
        session.add(row)
        session.flush()
        return int(row.id or 0)


def audit_rows(tenant: Tenant, patient_id: int, entity: str | None = None) -> list[AuditEvent]:
    with Session(tenant.app.state.engine) as session:
        query = select(AuditEvent).where(AuditEvent.patient_id == patient_id)
        if entity is not None:
            query = query.where(AuditEvent.entity == entity)
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
