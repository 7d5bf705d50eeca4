"""The append-only, hash-chained audit trail (HIPAA 164.312(b), 21 CFR 11.10(e), ONC 170.315(d)(2))."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from service.core.columns import json_field, utc_field


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, when, why, with old and new values; chained by ``prev_hash``."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field()
    clinic_id: int | None = Field(default=None, index=True)
    user_id: int | None = Field(default=None, index=True)
    username: str | None = Field(default=None, max_length=80)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=60)
    entity_id: str | None = Field(default=None, max_length=64)
    patient_id: int | None = Field(default=None, index=True)
    old_values: dict[str, Any] | None = json_field()
    new_values: dict[str, Any] | None = json_field()
    reason: str | None = Field(default=None, max_length=1000)
    client: str | None = Field(default=None, max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's tail (one row). Locking it serializes appends; it also exposes a truncated tail."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = 0
    last_hash: str = Field(max_length=64)
